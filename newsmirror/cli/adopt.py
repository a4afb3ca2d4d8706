"""`newsmirror adopt`: what an existing archive holds, and sources for its old folders."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from newsmirror.archive.paths import ARTICLES_DIR
from newsmirror.errors import CONFIG
from newsmirror.cli.output import out
from newsmirror.cli.run import CONFIG_OPTION

_ARCHIVE = typer.Option(None, "--archive", "-a",
                        help="The archive to survey (overrides [archive] path; needed when "
                             "the configuration does not exist yet).")


def adopt(
    config: Path | None = CONFIG_OPTION,
    archive: Path | None = _ARCHIVE,
    write_config: bool = typer.Option(
        False, "--write-config",
        help="Append a [[sources]] entry to the configuration for each article folder no "
             "source covers (created when missing; commented out where the feed's address "
             "or a slug must be filled in). Running it again adds nothing."),
    show: int = typer.Option(20, "--show", metavar="N", min=0,
                             help="Unreadable files and shared links to list (0: all)."),
) -> None:
    """Report what an existing archive holds, as newsmirror will see it: article files per
    layout (newsmirror's own, articles/<abbr>/<id>.md, articles/<站名>/<id>_<title>.md),
    per folder and per configured source, files it could not read and why, and links held
    by more than one file. Reads every file once and changes nothing in the archive; old
    files stay where they are. The next `newsmirror run` catalogs them, recognises the
    items its feeds repeat and lists old and new articles together."""
    from newsmirror.archive.adoption import (
        config_entries,
        day,
        describe_layouts,
        survey,
    )
    from newsmirror.archive.legacy import LAYOUT_NAMES, LAYOUTS
    from newsmirror.config import load_config
    from newsmirror.sources.bundled import bundled_sources

    path = config or Path("newsmirror.toml")
    loaded = None
    if path.exists() or archive is None:
        loaded = load_config(path)
    root = archive.resolve() if archive else loaded.archive  # type: ignore[union-attr]
    sources = list(loaded.sources) if loaded else []
    if not (root / ARTICLES_DIR).is_dir():
        raise out.fail(f"{root}: no articles/ folder; nothing to adopt", CONFIG)
    started = time.perf_counter()
    found = survey(root, loaded.folders if loaded else None)
    took = time.perf_counter() - started
    def say(text: str = "") -> None:
        out.stdout.print(text, markup=False)

    say(f"{root}: {found.files} article files read in {took:.1f} s"
        + (f", {len(found.unreadable)} could not be read" if found.unreadable else ""))
    say("\nby layout:")
    for name in LAYOUTS:
        say(f"  {found.layouts[name]:>8}  {LAYOUT_NAMES[name]}")
    names = {s.slug: s for s in sources}
    say("\nby folder:")
    for name, folder in sorted(found.folders.items()):
        source = names.get(folder.slug)
        whose = (f"source {source.slug} ({source.name}), list {source.list_file}" if source
                 else "no source configured")
        say(f"  articles/{name}/: {folder.files} files ({describe_layouts(folder.layouts)}), "
            f"{day(folder.oldest_ms)} … {day(folder.newest_ms)}; {whose}")
        if folder.list_page:
            if source and folder.list_page != source.list_file:
                say(f"      old list page {folder.list_page} links here: set list_path = "
                    f"\"{folder.list_page}\" on source {source.slug} to keep it up to date")
            elif not source:
                say(f"      old list page: {folder.list_page}")
    if sources:
        say("\nby source:")
        for source in sources:
            held = [f for f in found.folders.values() if f.slug == source.slug]
            count = sum(f.files for f in held)
            where = ", ".join(f"articles/{f.name}/" for f in held) or "nothing archived yet"
            say(f"  {source.slug} ({source.name}): {count} files in {where}")
    limit = show or None
    if found.unreadable:
        say(f"\ncould not read ({len(found.unreadable)}; left as they are, not listed):")
        for relpath, why in found.unreadable[:limit]:
            say(f"  {relpath}: {why}")
        if limit and len(found.unreadable) > limit:
            say(f"  … and {len(found.unreadable) - limit} more (--show 0 lists all)")
    if found.shared:
        say(f"\nlinks held by more than one file ({len(found.shared)}; a repeated item "
            "updates the newest of them):")
        for link, paths in found.shared[:limit]:
            say(f"  {link}: {', '.join(paths)}")
        if limit and len(found.shared) > limit:
            say(f"  … and {len(found.shared) - limit} more (--show 0 lists all)")
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    bundled = bundled_sources()
    entries = config_entries(found, sources, bundled, existing)
    if not entries:
        say("\nevery folder has a source in the configuration")
        return
    if not write_config:
        say(f"\n{len(entries)} folder(s) without a source: "
            + ", ".join(f"articles/{name}/" for name, _text, _ok in entries)
            + f" (--write-config adds entries for them to {path})")
        return
    _write(path, existing, entries, root)
    complete = sum(1 for _n, _t, ok in entries if ok)
    say(f"\nwrote {len(entries)} [[sources]] entries to {path} ({complete} ready, "
        f"{len(entries) - complete} commented out until completed)")


def _write(path: Path, existing: str, entries: list[tuple[str, str, bool]], root: Path) -> None:
    """Append the entries, checking first that the result is a valid configuration."""
    import tomllib

    from newsmirror.archive.files import write_atomic
    from newsmirror.config import ConfigError, parse_config

    head = existing
    if not head:
        where = os.path.relpath(root, path.resolve().parent)
        head = f"[archive]\npath = \"{Path(where).as_posix()}\"\n"
    text = head.rstrip("\n") + "\n\n" + "\n".join(body for _n, body, _ok in entries)
    try:
        data = tomllib.loads(text)
        if data.get("sources") or data.get("bundled_sources"):
            parse_config(data, file=str(path), base=path.resolve().parent)
    except (tomllib.TOMLDecodeError, ConfigError) as err:
        raise out.fail(f"{path}: the entries for the old folders would not make a valid "
                       f"configuration ({err}); nothing written", CONFIG) from None
    write_atomic(path, text.encode("utf-8"))


def register(app: typer.Typer) -> None:
    app.command("adopt")(adopt)
