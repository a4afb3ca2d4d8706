"""Pushing an archive's pending commits, for every command that commits into it."""

from __future__ import annotations

from newsmirror import crashpoints
from newsmirror.archive.store import Store, commit_message
from newsmirror.config import Config
from newsmirror.publish.derived import regenerate
from newsmirror.archive.git import PushResult
from newsmirror.publish.mirrors import MirrorOutcome, push_mirrors


def push_archive(store: Store, config: Config, push: bool = True, *,
                 mirrors: list[MirrorOutcome] | None = None,
                 warnings: list[str] | None = None,
                 now_ms: int | None = None) -> PushResult | None:
    """Push what is not on the remote yet; None when there is nothing to do. When the push
    had to rebase onto the remote's new articles, their lists and feeds are regenerated,
    committed and pushed too, so the archive never lists less than it holds.

    Then every mirror ([[archive.mirrors]]) is pushed, whatever became of the primary:
    each one's outcome goes to `mirrors` (replacing an earlier one of the same mirror),
    and lines worth a warning to `warnings`."""
    result = _push_primary(store, config, push)
    if push and config.push and config.mirrors:
        outcomes, problems = push_mirrors(store.repo, store.root, config, now_ms=now_ms)
        if mirrors is not None:
            names = {o.name for o in outcomes}
            mirrors[:] = [o for o in mirrors if o.name not in names] + outcomes
        if warnings is not None:
            warnings.extend(problems)
    return result


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
