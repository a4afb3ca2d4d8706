"""`newsmirror run`: one hourly run of the mirror."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer

from newsmirror.errors import CONFIG, FAILED
from newsmirror.cli.output import (
    RunProgress,
    archive_head,
    describe_outcome,
    interrupted,
    out,
    plural,
    preflight,
    push_failed,
    report_mirrors,
    resolve_config,
)

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="The configuration file (default: ./newsmirror.toml).")
ARCHIVE_OPTION = typer.Option(None, "--archive", "-a", help="The archive folder (a git repository; created when missing). Overrides [archive] path.")


def print_summary(report) -> None:
    """The per-source table and the totals, on standard output."""
    for outcome in report.outcomes:
        out.stdout.print(describe_outcome(outcome), markup=False)
    failed = sum(1 for o in report.outcomes if o.failed)
    total = f"{report.new} new, {report.updated} updated, {plural(failed, 'source')} failed"
    if report.failed_items:
        total += f", {items_failed([f for _slug, f in report.failed_items])}"
    if report.backing_off:
        total += f", {report.backing_off} backing off"
    if report.commit:
        total += f"; committed {report.commit[:10]}"
    else:
        total += "; nothing to commit"
    if report.shard_commit:  # the new articles' files, in this year's repository
        total += f" (the articles: {report.shard_commit[:10]} in {report.shard_repo})"
    out.stdout.print(total, markup=False)
    for slug, failure in report.failed_items:
        show_item_failure(f"{slug}: {failure.describe()}", failure)
    from newsmirror.jobs.pages import REFUSED_PREFIX  # loaded by the run already

    for failures, what in ((report.page_failures, "article pages could not be fetched; the feed's "
                                                  "own text stands in until a later run"),
                           (report.image_failures, "images could not be downloaded; they go "
                                                   "through the image proxy")):
        if failures:
            out.warn(f"{len(failures)} {what}" + ("" if out.verbose else " (-v lists them)"))
            for url, reason in sorted(failures.items()):
                if reason.startswith(REFUSED_PREFIX):  # a site turning newsmirror away: always said
                    out.warn(f"  {url}: {reason}")
                else:
                    out.detail(f"  {url}: {reason}")
    for warning in report.warnings:
        out.warn(warning)
    if report.push is not None and report.push.ok:
        out.stdout.print(report.push.message, markup=False)
    report_mirrors(report.mirrors)


def items_failed(failures) -> str:
    """`2 items failed (1 internal error in rendering, 1 in writing)`: how many, and why."""
    groups: Counter[tuple[str, bool]] = Counter((f.step, f.bug) for f in failures)
    why = ", ".join(f"{n} {'internal error' + ('s' if n > 1 else '') + ' ' if bug else ''}in {step}"
                    for (step, bug), n in sorted(groups.items()))
    return f"{plural(len(failures), 'item')} failed ({why})"


def show_item_failure(line: str, failure) -> None:
    """One item's failure on standard error: an error for a bug (with its traceback under
    -v), a warning otherwise."""
    if failure.bug:
        out.error(line + ("" if out.verbose else " (-v shows where)"))
        if out.verbose and failure.traceback:
            out.detail(failure.traceback.rstrip())
    else:
        out.warn(line)


def execute(config, *, push: bool, label: str = "mirroring", only: set[str] | None = None,
            force: bool = False):
    """Run the pipeline with progress display; exit codes: 3 when the archive is busy or
    git failed, 130 when interrupted (Ctrl-C)."""
    from newsmirror.fetch.client import prepare_tls

    prepare_tls()  # while the pipeline is imported and the archive opened
    from newsmirror.jobs.mirror import run_mirror

    head = archive_head(config.archive)
    progress = RunProgress(label)
    try:
        import asyncio

        report = asyncio.run(run_mirror(config, push=push, reporter=progress, only=only,
                                        force=force))
    except KeyboardInterrupt:
        progress.stop()
        raise interrupted(config.archive, head) from None
    finally:
        progress.stop()
    return report


def select_sources(config, slugs: list[str] | None) -> set[str] | None:
    """The slugs named by --source, each checked against the configuration (exit 2 for
    one it does not have or has disabled); None when none was named (run them all)."""
    if not slugs:
        return None
    known = {s.slug: s for s in config.sources}
    for slug in slugs:
        if slug not in known:
            raise out.fail(f"--source {slug}: {config.file} has no source named {slug!r} "
                           f"(its sources: {', '.join(known)})", CONFIG)
        if not known[slug].enabled:
            raise out.fail(f"--source {slug}: the source is disabled in {config.file} "
                           "(enabled = false)", CONFIG)
    return set(slugs)


def run(
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
    no_push: bool = typer.Option(False, "--no-push", help="Commit but do not push."),
    source: Optional[list[str]] = typer.Option(
        None, "--source", "-s", metavar="SLUG",
        help="Run only this source (repeat for several); the others are left as they are."),
    force: bool = typer.Option(False, "--force",
                               help="Fetch the sources now, even those backing off after failures."),
) -> None:
    """Fetch every source, archive new and changed articles, regenerate lists, commit and push.

    First checks the configuration as `newsmirror check` does, and stops (exit 2) before
    touching anything when it is wrong. Prints one line per source (new, updated,
    unchanged, or why it failed) and a total. Exits 1 when every source failed or an item
    failed with an internal error (the rest is archived, committed and pushed), 2 on a
    configuration or usage error, 3 when the archive is busy or git failed (a failed push
    included), 130 when interrupted.
    """
    loaded = resolve_config(config, archive)
    only = select_sources(loaded, source)
    preflight(loaded, push=not no_push)
    report = execute(loaded, push=not no_push, only=only, force=force)
    print_summary(report)
    failed_push = push_failed(report.push)
    if not report.ok:
        out.error("no source could be mirrored")
    if failed_push is not None:
        raise failed_push
    if not report.ok:
        raise typer.Exit(FAILED)
    if any(failure.bug for _slug, failure in report.failed_items):
        # The job was done but for these items, and a bug would lose them every hour:
        # the scheduled job goes red so that someone reads the lines above.
        raise typer.Exit(FAILED)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
