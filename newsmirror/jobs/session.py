"""One job's session with the archive, the same for every job that changes it (mirror,
watch, requests, rebuild): open the store with the configured remote and hold its lock
(`open_session`), commit through `Store.commit`, which records the commit the catalog
agrees with, with a message from `archive.store.commit_message` (`Session.commit`), and
push to the primary remote and every mirror (`Session.push`). What came of the commit
and the pushes goes into the job's report, whose class extends `Published`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from newsmirror import crashpoints
from newsmirror.archive.git import PushResult
from newsmirror.archive.store import Store, commit_message, open_store
from newsmirror.config import Config
from newsmirror.publish.derived import regenerate
from newsmirror.publish.mirrors import MirrorOutcome, push_mirrors


@dataclass
class Published:
    """What a job's commit and pushes came to."""

    commit: str | None = None
    """The job's commit; None when it changed nothing."""
    push: PushResult | None = None
    """The primary remote's push; None when there was nothing to push (or no remote)."""
    mirrors: list[MirrorOutcome] = field(default_factory=list)
    """What became of each mirror's push ([[archive.mirrors]])."""
    warnings: list[str] = field(default_factory=list)
    """One line each: what went wrong without failing the job (a mirror's push, a state
    file that had to be read in part, an alert that could not be sent)."""


@dataclass
class Session:
    config: Config
    store: Store
    report: Published

    def commit(self, paths: list[str], message: str) -> str | None:
        """Commit `paths` as the job's commit (see Store.commit); None when nothing changed."""
        self.report.commit = self.store.commit(paths, message)
        return self.report.commit

    def push(self, push: bool = True, *, now_ms: int | None = None) -> PushResult | None:
        """Push what is not on the remote yet; the primary's result, None when there was
        nothing to do. When the push had to rebase onto the remote's new articles, their
        lists and feeds are regenerated, committed and pushed too, so the archive never
        lists less than it holds.

        Then every mirror ([[archive.mirrors]]) is pushed, whatever became of the primary:
        each one's outcome goes to the report's `mirrors` (replacing an earlier one of the
        same mirror), and lines worth a warning to its `warnings`."""
        config, report = self.config, self.report
        report.push = _push_primary(self.store, config, push)
        if push and config.push and config.mirrors:
            outcomes, problems = push_mirrors(self.store.repo, self.store.root, config, now_ms=now_ms)
            names = {o.name for o in outcomes}
            report.mirrors[:] = [o for o in report.mirrors if o.name not in names] + outcomes
            report.warnings.extend(problems)
        return report.push


@contextmanager
def open_session(config: Config, report: Published | None = None, *,
                 writes: bool = True) -> Iterator[Session]:
    """Open the archive of `config` for one job (see open_store), with its primary remote
    set as configured; `report`: the job's, which its commit and pushes go into (a job
    that neither commits nor pushes needs none)."""
    remote = (config.remote_name, config.remote) if config.remote else None
    with open_store(config.archive, branch=config.branch, remote=remote, writes=writes,
                    folders=config.folders) as store:
        yield Session(config, store, report if report is not None else Published())


def _push_primary(store: Store, config: Config, push: bool) -> PushResult | None:
    repo = store.repo
    if not (push and config.push and repo.head() and repo.has_remote(config.remote_name)):
        return None
    if repo.unpushed(config.remote_name, config.branch) == 0:
        return None
    result = repo.push(config.remote_name, config.branch)
    crashpoints.reached("pushed")
    merged = store.resync() if result.ok else set()
    if merged is None or merged:
        pages = regenerate(config, store, merged)
        if pages and store.commit(pages, commit_message(
                "Regenerate lists and feeds for articles merged from the remote", pages[:20])):
            result = repo.push(config.remote_name, config.branch)
    return result
