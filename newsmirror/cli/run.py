"""`newsmirror run`: one hourly run of the mirror."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from newsmirror.cli.output import RunProgress, describe_outcome, out, resolve_config

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="The configuration file (default: ./newsmirror.toml).")
ARCHIVE_OPTION = typer.Option(None, "--archive", "-a", help="The archive folder (a git repository; created when missing). Overrides [archive] path.")


def print_summary(report) -> None:
    """The per-source table and the totals, on standard output."""
    for outcome in report.outcomes:
        out.stdout.print(describe_outcome(outcome), markup=False)
    failed = sum(1 for o in report.outcomes if o.failed)
    total = f"{report.new} new, {report.updated} updated, {failed} sources failed"
    if report.backing_off:
        total += f", {report.backing_off} backing off"
    if report.commit:
        total += f"; committed {report.commit[:10]}"
    else:
        total += "; nothing to commit"
    out.stdout.print(total, markup=False)
    for failures, what in ((report.page_failures, "article pages could not be fetched; the feed's "
                                                  "own text stands in until a later run"),
                           (report.image_failures, "images could not be downloaded; they go "
                                                   "through the image proxy")):
        if failures:
            out.warn(f"{len(failures)} {what}" + ("" if out.verbose else " (-v lists them)"))
            for url, reason in sorted(failures.items()):
                out.detail(f"  {url}: {reason}")
    for warning in report.warnings:
        out.warn(warning)
    if report.push is not None:
        if report.push.ok:
            out.stdout.print(report.push.message, markup=False)
        else:
            out.warn(f"push failed, the commits stay and the next run pushes them: {report.push.message}")


def execute(config, *, push: bool, label: str = "mirroring"):
    """Run the pipeline with progress display; exit codes: 1 when nothing could be done,
    2 for a bad configuration, 3 when the archive is busy or git failed."""
    from newsmirror.archive.store import ArchiveBusyError
    from newsmirror.pipeline import run_mirror
    from newsmirror.publish.git import GitError

    progress = RunProgress(label)
    try:
        report = asyncio.run(run_mirror(config, push=push, reporter=progress))
    except ArchiveBusyError as err:
        raise out.fail(str(err), 3) from None
    except GitError as err:
        raise out.fail(str(err), 3) from None
    finally:
        progress.stop()
    return report


def run(
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
    no_push: bool = typer.Option(False, "--no-push", help="Commit but do not push."),
) -> None:
    """Fetch every source, archive new and changed articles, regenerate lists, commit and push.

    Prints one line per source (new, updated, unchanged, or why it failed) and a total.
    Exits 1 only when every source failed, 2 on a configuration error, 3 when the archive
    is busy or git failed.
    """
    loaded = resolve_config(config, archive)
    report = execute(loaded, push=not no_push)
    print_summary(report)
    if not report.ok:
        raise out.fail("no source could be mirrored")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
