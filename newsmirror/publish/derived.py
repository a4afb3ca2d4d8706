"""Everything derived from the articles: list pages, the archive README and the Atom
feeds. All are pure functions of what is archived, so regenerating them when nothing
changed writes nothing."""

from __future__ import annotations

from newsmirror.archive.store import Store
from newsmirror.config import Config
from newsmirror.publish.feeds import write_feeds
from newsmirror.archive.paths import ALL_FEED, LIST_TITLES, README, SHARDS_INDEX, feed_path
from newsmirror.archive.shards import archive_name, describe, write_index
from newsmirror.publish.lists import ListedSource, render_index, render_list, render_shards
from newsmirror.publish.readme import place_index, unclaimed
from newsmirror.publish.mirrors import reader_copies, remote_address, shard_file_address, site_url
from newsmirror.sources.health import SourceHealth, load_states, state_files



def write_lists(config: Config, store: Store, changed: set[str] | None = None,
                health: dict[str, SourceHealth] | None = None) -> list[str]:
    """The list pages of the sources in `changed` (all when None, and any whose file is
    missing) and the README, from the catalog and each source's state (`health`, else
    as last recorded); returns the paths that changed."""
    stats = store.catalog.stats()
    if health is None:
        health = load_states(*state_files(store.root))[0]
    written = []
    primary = remote_address(store.repo, config.remote_name)
    away = shard_file_address(config, primary)
    for source in config.sources:
        relpath = source.list_file
        if changed is not None and source.slug not in changed and (store.root / relpath).exists():
            continue
        name = _kept_heading(store.root / relpath) if source.list_path else None
        if store.write(relpath, render_list(name or source.name,
                                            store.catalog.latest(source.slug, config.list_size), away)):
            written.append(relpath)
    if write_index(config, store, primary=primary):
        written.append(SHARDS_INDEX)
    listed = [ListedSource(s.slug, s.name, stats[s.slug].articles if s.slug in stats else 0,
                           stats[s.slug].newest_ms if s.slug in stats else None,
                           state=_shown_state(health.get(s.slug)), page=s.list_file)
              for s in config.sources]
    extra = [f"- [{label}]({page})" for page, label in LIST_TITLES.items() if (store.root / page).exists()]
    site = None if config.feed_content else site_url(config, primary)
    index = render_index(config.title, listed, extra=extra, copies=reader_copies(config, primary),
                         feeds=feed_list(config), full_feed=f"{site}{ALL_FEED}" if site else None,
                         shards=shard_table(config, store, primary))
    try:
        current = (store.root / README).read_bytes()
    except FileNotFoundError:
        current = None
    committed = None
    if unclaimed(current):
        shown = store.repo.git("show", "HEAD:README.md", check=False)
        committed = shown.stdout if shown.returncode == 0 else None
    if store.write(README, place_index(current, index, committed=committed)):
        written.append(README)
    return written


def shard_table(config: Config, store: Store, primary: str | None) -> list[str]:
    """The README's lines on the shards (none for an archive that has no index of them)."""
    found = describe(config, store, primary=primary)
    if found is None:
        return []
    _first, main, infos = found
    return render_shards((archive_name(config, primary), main), [(i.name, i.year, i.web, i.articles) for i in infos])


def _kept_heading(page) -> str | None:
    """The heading of a list page an older mirror kept (`list_path`), so that the page
    goes on in the format it had: its first line, when a `------` line follows."""
    try:
        with open(page, encoding="utf-8") as file:
            first, second = file.readline(), file.readline()
    except (OSError, UnicodeDecodeError):
        return None
    heading = first.rstrip("\n")
    return heading if second.rstrip("\n") == "------" and heading.strip() else None


def feed_list(config: Config) -> list[tuple[str, str]]:
    """The archive's feeds, for readers: all articles, then each source's."""
    return [("全部文章", ALL_FEED)] + [(s.name, feed_path(s.slug))
                                           for s in config.sources if s.slug != "all"]


def _shown_state(h: SourceHealth | None) -> str | None:
    """What the README tells readers of a source: only that it is dead or stale."""
    return h.state if h is not None and h.state in ("dead", "stale") else None


def regenerate(config: Config, store: Store, changed: set[str] | None = None,
               health: dict[str, SourceHealth] | None = None) -> list[str]:
    """Lists and feeds of the sources in `changed` (every source when None) and the README.
    Returns the paths that changed."""
    return write_lists(config, store, changed, health) + write_feeds(config, store, changed=changed)
