"""`newsmirror sources`: the configured sources and how each one is doing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from newsmirror.cli.output import out, resolve_config
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION

sources_app = typer.Typer(help="List the sources with their health; import or export OPML.",
                          invoke_without_command=True, no_args_is_help=False)


def _when(ms: int | None) -> str:
    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@sources_app.callback()
def sources(
    ctx: typer.Context,
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
) -> None:
    """List every source: state, last success, last error, consecutive failures, next
    attempt, whether an ETag is held, and how many articles are archived."""
    if ctx.invoked_subcommand is not None:
        return
    import time

    from newsmirror.archive.store import HEALTH_FILE
    from newsmirror.sources.health import SourceHealth, describe, load_health

    loaded = resolve_config(config, archive)
    try:
        health = load_health(loaded.archive / HEALTH_FILE)
    except ValueError as err:
        raise out.fail(str(err), 2) from None
    now = int(time.time() * 1000)
    columns = ["slug", "name", "state", "last success", "last error", "failures",
               "next attempt", "etag", "articles"]
    rows = []
    for source in loaded.sources:
        h = health.get(source.slug, SourceHealth())
        state = "disabled" if not source.enabled else describe(h, now)
        rows.append([source.slug, source.name, state, _when(h.last_success_ms),
                     h.last_error or "—", str(h.failures), _when(h.next_attempt_ms),
                     "yes" if h.etag or h.last_modified else "no", str(h.articles)])
    if out.stdout.is_terminal:
        table = Table(*columns, title=f"{len(rows)} sources ({loaded.file})")
        for row in rows:
            table.add_row(*row)
        out.stdout.print(table)
    else:
        print("\t".join(columns))
        for row in rows:
            print("\t".join(row))


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
