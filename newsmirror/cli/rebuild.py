"""`newsmirror rebuild`: everything derived, rebuilt from the article files alone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from newsmirror.cli.output import out, plural, resolve_config
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION


def rebuild(
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
) -> None:
    """Re-read every article file into the catalog and rewrite the list pages, the README
    and the feeds from it. Use it after editing articles by hand or when in doubt; the
    next `newsmirror run` commits whatever changed. Prints the counts and the time taken."""
    from newsmirror.jobs.rebuild import rebuild_archive

    loaded = resolve_config(config, archive)
    started = time.perf_counter()
    report = rebuild_archive(loaded)
    out.stdout.print(f"{plural(report.articles, 'article')} read; "
                     f"{plural(len(report.rewritten), 'derived file')} rewritten "
                     f"in {time.perf_counter() - started:.1f} s", markup=False)
    for path in report.rewritten:
        out.detail(f"rewrote {path}")


def register(app: typer.Typer) -> None:
    app.command("rebuild")(rebuild)
