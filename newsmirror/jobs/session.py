"""One job's session with the archive, the same for every job that changes it (mirror,
watch, requests, rebuild): open the store with the configured remote and hold its lock
(`open_session`), commit through `Store.commit`, which records the commit the catalog
agrees with, with a message from `archive.store.commit_message` (`Session.commit`), and
push to the primary remote and every mirror (`Session.push`). What came of the commit
and the pushes goes into the job's report, whose class extends `Published`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from newsmirror import crashpoints
from newsmirror.archive.git import PushResult, Repo
from newsmirror.archive.shards import Shards, open_shards, shard_name
from newsmirror.archive.store import Store, commit_message, open_store, sync_catalog
from newsmirror.config import Config
from newsmirror.publish.derived import regenerate
from newsmirror.publish.mirrors import MirrorOutcome, push_mirrors, shard_config


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
    shards: Shards | None = None
    """The archive's yearly shards (archive/shards.py), once opened: by the job, or by a
    push whose rebase brought articles in (the lists span every shard)."""

    def open_shards(self, now_ms: int | None = None, *, start: bool = False,
                    files: bool = False) -> Shards | None:
        """Open the archive's shards for this job (see archive.shards.open_shards); None
        when it has none."""
        when = now_ms if now_ms is not None else int(time.time() * 1000)
        self.shards = open_shards(self.config, self.store, when, start=start, files=files)
        return self.shards

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
        same mirror), and lines worth a warning to its `warnings`.

        The shards the job opened are pushed first, each to its own remotes the same
        way, so that a shard's host has its files before the main repository links to
        them. When a shard's primary push fails, the main repository is held back (not
        pushed, to its primary or its mirrors: its lists would link to files that host
        does not have) and the result is a failure; the next push sends both, in that
        order (on a runner whose commits are gone, the next run archives those articles
        again, as after any push that never reached the remote)."""
        store, config, report = self.store, self.config, self.report
        failed = _push_shards(store, config, self.shards, push, report, now_ms) if self.shards else []
        if failed:
            report.push = PushResult(False, "\n".join(r.message for r in failed) + "\nThe main repository is "
                                     "not pushed until the shard's host has its files (its lists link to them).")
            return report.push
        result = self._push_primary(push, now_ms)
        _push_mirror_set(store.repo, config, push, report, now_ms)
        report.push = result
        return report.push

    def _push_primary(self, push: bool, now_ms: int | None) -> PushResult | None:
        store, config = self.store, self.config
        repo = store.repo
        if not (push and config.push and repo.head() and repo.has_remote(config.remote_name)):
            return None
        if repo.unpushed(config.remote_name, config.branch) == 0:
            return None
        result = repo.push(config.remote_name, config.branch)
        crashpoints.reached("pushed")
        merged = store.resync() if result.ok else set()
        if (merged is None or merged) and self.shards is None:
            # The lists span every shard: a job that did not open them (watch, requests,
            # whose runner may have no local cache) brings their entries in first.
            self.open_shards(now_ms)
        if _take_in(config, store, merged, "the remote"):
            result = repo.push(config.remote_name, config.branch)
        return result


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


def _push_mirror_set(repo: Repo, config: Config, push: bool, report: Published,
                     now_ms: int | None) -> None:
    if push and config.push and config.mirrors:
        outcomes, problems = push_mirrors(repo, repo.root, config, now_ms=now_ms)
        names = {o.name for o in outcomes}
        report.mirrors[:] = [o for o in report.mirrors if o.name not in names] + outcomes
        report.warnings.extend(problems)


def _push_shards(store: Store, config: Config, shards: Shards, push: bool, report: Published,
                 now_ms: int | None) -> list[PushResult]:
    """Push each shard with commits its remote lacks (the open one; a closed one whose
    last push failed) and its mirrors; the failed primary pushes. Articles a rebase took in
    from a shard's remote are cataloged, and the main repository's lists regenerated."""
    failed = []
    merged: set[str] | None = set()
    for year, repo in shards.repos.items():
        if push and config.push and repo.head() and repo.has_remote(config.remote_name) \
                and repo.unpushed(config.remote_name, config.branch) != 0:
            result = repo.push(config.remote_name, config.branch)
            crashpoints.reached("shard-pushed")
            if result.ok:
                sync = sync_catalog(repo.root, repo, store.catalog, check_uncommitted=False, shard=year)
                merged = None if sync.slugs is None or merged is None else merged | sync.slugs
            else:
                failed.append(PushResult(False, f"shard {shard_name(config, year, shards.primary)}: "
                                                f"{result.message}"))
        _push_mirror_set(repo, shard_config(config, year, shards.primary), push, report, now_ms)
    _take_in(config, store, merged, "a shard's remote")
    return failed


def _take_in(config: Config, store: Store, merged: set[str] | None, where: str) -> str | None:
    """Regenerate and commit the lists and feeds of the sources a push's rebase brought
    articles of (`merged`, None: all); the commit, None when nothing changed."""
    if merged is not None and not merged:
        return None
    pages = regenerate(config, store, merged)
    if not pages:
        return None
    return store.commit(pages, commit_message(f"Regenerate lists and feeds for articles merged from {where}",
                                              pages[:20]))
