"""`newsmirror watch`: re-check recent articles at their source and keep the evidence of
edits and deletions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from newsmirror.cli.output import (
    archive_head,
    interrupted,
    out,
    preflight,
    push_failed,
    report_mirrors,
    resolve_config,
)
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION


def watch(
    since: float = typer.Option(30, "--since", min=0, help="Re-check articles published in the last DAYS days."),
    budget: int = typer.Option(200, "--budget", min=0, help="Re-check at most N articles this run (the longest-unchecked first)."),
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
    no_push: bool = typer.Option(False, "--no-push", help="Commit but do not push."),
) -> None:
    """Re-check recent articles at their original address: a page the source changed is
    written over the article (git history keeps the archived version) and listed in
    lists/changed.md; a page it removed is listed in lists/removed.md and kept.

    Exits 2 on a configuration error (checked first, as `newsmirror check` does), 3 when
    the archive is busy or git failed (a failed push included), 130 when interrupted.
    """
    from newsmirror.jobs.watch import watch_archive

    loaded = resolve_config(config, archive)
    preflight(loaded, push=not no_push)
    head = archive_head(loaded.archive)
    try:
        import asyncio

        report = asyncio.run(watch_archive(loaded, since_days=since, budget=budget,
                                           push=not no_push))
    except KeyboardInterrupt:
        raise interrupted(loaded.archive, head) from None
    for note in report.notes:
        out.info(note)
    for path in report.changed:
        out.stdout.print(f"changed: {path}", markup=False)
    for path in report.removed:
        out.stdout.print(f"removed: {path}", markup=False)
    for path, reason in sorted(report.errors.items()):
        if path in report.tracebacks:  # a bug: always said, with where under -v
            out.error(f"not checked: {path} ({reason})" + ("" if out.verbose else " (-v shows where)"))
            out.detail(report.tracebacks[path].rstrip())
        else:
            out.detail(f"not checked: {path} ({reason})")
    total = (f"checked {report.checked} of {report.candidates} recent articles: "
             f"{len(report.changed)} changed, {len(report.removed)} removed, "
             f"{len(report.errors)} could not be checked")
    total += f"; committed {report.commit[:10]}" if report.commit else "; nothing to commit"
    out.stdout.print(total, markup=False)
    if report.push is not None and report.push.ok:
        out.stdout.print(report.push.message, markup=False)
    report_mirrors(report.mirrors, report.warnings)
    if (failed_push := push_failed(report.push)) is not None:
        raise failed_push


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
