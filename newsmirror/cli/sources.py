"""`newsmirror sources`: the configured sources and how each one is doing."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import typer

from newsmirror.errors import CONFIG
from newsmirror.cli.output import out, plural, resolve_config
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION
from newsmirror.dates import utc_minutes

sources_app = typer.Typer(help="List the sources with their health; import or export OPML.",
                          invoke_without_command=True, no_args_is_help=False)


def _when(ms: int | None) -> str:
    if not ms:
        return "—"
    return utc_minutes(ms)


def source_rows(loaded, now_ms: int) -> tuple[list[dict], list[str]]:
    """Each configured source's health as a dict (what `sources --json` prints), and the
    problems found reading the state files (one line each)."""
    from newsmirror.sources.health import (
        SourceHealth,
        alert_state,
        days_since_new,
        describe,
        load_states,
        source_state,
        state_files,
    )

    health, problems = load_states(*state_files(loaded.archive))
    rows = []
    for source in loaded.sources:
        h = health.get(source.slug, SourceHealth())
        days = days_since_new(h, now_ms)
        rows.append({
            "slug": source.slug,
            "name": source.name,
            "url": source.url,
            "enabled": source.enabled,
            "state": source_state(h, now_ms) if source.enabled else "disabled",
            "alert_state": alert_state(h, now_ms, loaded.alerts.after_failures)
            if source.enabled else "ok",
            "detail": describe(h, now_ms),
            "consecutive_failures": h.failures,
            "last_error": h.last_error,
            "failing_since_ms": h.failing_since_ms,
            "last_success_ms": h.last_success_ms,
            "last_attempt_ms": h.last_attempt_ms,
            "next_attempt_ms": h.next_attempt_ms,
            "last_new_ms": h.last_new_ms,
            "days_since_new": None if days is None else round(days, 2),
            "usual_interval_ms": h.interval_ms,
            "validators": bool(h.etag or h.last_modified),
            "articles": h.articles,
        })
    return rows, problems


@sources_app.callback()
def sources(
    ctx: typer.Context,
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of objects instead of a table."),
) -> None:
    """List every source: its state (ok, failing, backing off, stale, dead, new or
    disabled), days since its last new article, last success, last error, consecutive
    failures, next attempt, whether an ETag is held, and how many articles are archived.

    --json prints a list of objects with slug, name, url, enabled, state, alert_state
    (ok, failing, stale or dead: what alerts and the archive README report),
    consecutive_failures, last_error, failing_since_ms, last_success_ms, last_attempt_ms,
    next_attempt_ms, last_new_ms, days_since_new, usual_interval_ms, validators, articles.
    """
    if ctx.invoked_subcommand is not None:
        return
    import json
    import time

    loaded = resolve_config(config, archive)
    rows, problems = source_rows(loaded, int(time.time() * 1000))
    for problem in problems:
        out.warn(problem)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    columns = ["slug", "name", "state", "days since new", "last success", "last error",
               "failures", "next attempt", "etag", "articles"]
    table_rows = [[r["slug"], r["name"], r["state"],
                   "—" if r["days_since_new"] is None else f"{r['days_since_new']:.1f}",
                   _when(r["last_success_ms"]), r["last_error"] or "—",
                   str(r["consecutive_failures"]), _when(r["next_attempt_ms"]),
                   "yes" if r["validators"] else "no", str(r["articles"])] for r in rows]
    if out.stdout.is_terminal:
        from rich.table import Table

        table = Table(*columns, title=f"{plural(len(rows), 'source')} ({loaded.file})")
        for row in table_rows:
            table.add_row(*row)
        out.stdout.print(table)
    else:
        print("\t".join(columns))
        for row in table_rows:
            print("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row))


# -- OPML -----------------------------------------------------------------------------------
def _inherited(ctx: typer.Context, name: str, value: Path | None) -> Path | None:
    """A path option given to the subcommand, else the one given to `sources` itself."""
    # Path(): some typer releases keep the group's own parameters unconverted.
    given = ctx.parent.params.get(name) if ctx.parent else None
    return value or (Path(given) if given else None)


def _config_path(ctx: typer.Context, config: Path | None) -> Path:
    """--config given to the subcommand, else to `sources`, else ./newsmirror.toml."""
    return _inherited(ctx, "config", config) or Path("newsmirror.toml")


def _configured(data: dict) -> tuple[set[str], set[str]]:
    """The slugs and (normalised) feed addresses a config document already has, bundled
    sources included; read loosely, as the full check runs on the result."""
    from newsmirror.archive.identity import normalise_link
    from newsmirror.sources.bundled import bundled_sources

    own = [s for s in data.get("sources", []) if isinstance(s, dict)] \
        if isinstance(data.get("sources"), list) else []
    wanted = data.get("bundled_sources")
    bundled = [s for s in bundled_sources()
               if wanted is True or (isinstance(wanted, list) and s["slug"] in wanted)]
    listed = own + bundled
    slugs = {str(s.get("slug")) for s in listed}
    urls = {normalise_link(str(s.get("url", ""))) or str(s.get("url", "")) for s in listed}
    return slugs, urls


@sources_app.command("import")
def import_opml(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="An OPML file, as feed readers export them."),
    config: Optional[Path] = CONFIG_OPTION,
) -> None:
    """Add the feeds of an OPML file to the configuration as [[sources]] tables.

    Feeds whose address the configuration already has (bundled sources included) are
    skipped. The file is changed only when the result still loads.
    """
    import tomllib

    from newsmirror.archive.files import write_atomic
    from newsmirror.archive.identity import normalise_link
    from newsmirror.config import ConfigError, parse_config
    from newsmirror.sources.opml import parse_opml, render_source_tables

    path = _config_path(ctx, config)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise out.fail(f"{path}: file not found (create one with `newsmirror init DIR`)", CONFIG) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise out.fail(f"{path}: not valid TOML: {err}", CONFIG) from None
    try:
        feeds = parse_opml(file.read_bytes(), reserved=_configured(data)[0])
    except OSError as err:
        raise out.fail(f"{file}: cannot read: {err.strerror or err}", CONFIG) from None
    except ValueError as err:
        raise out.fail(f"{file}: {err}", CONFIG) from None

    urls = _configured(data)[1]
    added, skipped = [], 0
    for feed in feeds:
        url = normalise_link(feed["url"])
        if url is None:
            out.warn(f"skipped {feed['name']}: {feed['url']!r} is not an http(s) address")
        elif url in urls:
            out.detail(f"skipped {feed['name']}: {feed['url']} is already configured")
        else:
            urls.add(url)
            added.append(feed)
            out.info(f"added {feed['slug']}: {feed['name']} <{feed['url']}>")
            continue
        skipped += 1
    if added:
        updated = text if not text or text.endswith("\n") else text + "\n"
        updated += render_source_tables(added)
        try:
            parse_config(tomllib.loads(updated), file=str(path), base=path.resolve().parent)
        except (ConfigError, tomllib.TOMLDecodeError) as err:
            raise out.fail(f"{path} left unchanged: with the imported sources it would not "
                           f"load: {err}", CONFIG) from None
        write_atomic(path, updated.encode("utf-8"))
    print(f"{len(added)} added, {skipped} skipped ({path})")


@sources_app.command("export")
def export_opml(
    ctx: typer.Context,
    config: Optional[Path] = CONFIG_OPTION,
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write to this file instead of standard output."),
) -> None:
    """Write the configured sources (bundled ones included) as OPML 2.0, for a feed reader."""
    from newsmirror.archive.files import write_atomic
    from newsmirror.sources.opml import render_opml

    loaded = resolve_config(_config_path(ctx, config), None)
    data = render_opml(loaded.sources, title=loaded.title)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_atomic(output, data)
        out.info(f"wrote {plural(len(loaded.sources), 'source')} to {output}")


@sources_app.command("issues")
def health_issues(
    ctx: typer.Context,
    config: Path | None = CONFIG_OPTION,
    archive: Path | None = ARCHIVE_OPTION,
    repo: str | None = typer.Option(
        None, "--repo", envvar="GITHUB_REPOSITORY", show_envvar=True,
        help="The GitHub repository (OWNER/NAME) to keep the issues on."),
) -> None:
    """Open one issue (label source-health) per source that is failing, stale or dead,
    and close it when the source recovers, with GitHub's `gh` CLI (which needs GH_TOKEN
    or `gh auth login`). Reads the state the last run left; the hourly workflow runs it
    after `newsmirror run`. Exits 3 when gh is missing or a call fails; a repository with
    Issues turned off (a fork, by default) is a warning line, not a failure."""
    import time

    from newsmirror.sources.health import load_states, state_files
    from newsmirror.alerts.issues import GitHubIssues, IssuesDisabled, plan_issues

    if not repo:
        raise out.fail("sources issues: no repository: give --repo OWNER/NAME "
                       "(on GitHub Actions, $GITHUB_REPOSITORY names it)", CONFIG)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise out.fail(f"sources issues: --repo {repo!r} is not OWNER/NAME", CONFIG)
    loaded = resolve_config(_inherited(ctx, "config", config), _inherited(ctx, "archive", archive))
    health, problems = load_states(*state_files(loaded.archive))
    for problem in problems:
        out.warn(problem)
    now_ms = int(time.time() * 1000)
    done = {"open": 0, "update": 0, "close": 0}
    github = GitHubIssues(repo)
    try:
        opened = github.open_issues()
    except IssuesDisabled:
        out.warn(f"sources issues: {repo} has Issues turned off (Settings → General → "
                 "Features), so no source-health issues are kept; `newsmirror sources` "
                 "shows each source's health")
        return
    plan = plan_issues(loaded.sources, health, opened, now_ms)
    for action in plan.actions:
        answer = github.apply(action)
        done[action.kind] += 1
        where = f"#{action.number}" if action.number else (answer or "a new issue")
        verb = {"open": "opened", "update": "updated", "close": "closed"}[action.kind]
        out.stdout.print(f"{verb} {where} ({action.slug}): {action.title}", markup=False)
    print(f"source-health issues on {repo}: {done['open']} opened, {done['update']} updated, "
          f"{done['close']} closed, {plan.unchanged} unchanged")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
