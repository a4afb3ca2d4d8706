"""`rebuild`: everything derived from the article files (the catalog, the list pages, the
README and the feeds) made again from the files alone, for after a hand edit or when in
doubt. It commits nothing: the next mirror run commits whatever changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsmirror.config import Config
from newsmirror.jobs.session import open_session
from newsmirror.publish.derived import regenerate


@dataclass
class RebuildReport:
    articles: int = 0
    """Article files read into the catalog."""
    rewritten: list[str] = field(default_factory=list)
    """Derived files whose bytes changed."""


def rebuild_archive(config: Config) -> RebuildReport:
    report = RebuildReport()
    with open_session(config) as session:
        store = session.store
        # Every shard's files too (cloned when missing): the lists span them all, and a
        # catalog that lacks a shard's entries would list only the main repository's.
        shards = session.open_shards(files=True)
        # Opening the store and the shards already rebuilt what the catalog lacked (all of
        # it after a fresh clone): reading those files twice helps nothing.
        done = dict(store.catalog.rebuilt)
        store.catalog.begin()
        report.articles = done[""] if "" in done else store.catalog.rebuild(store.root)
        for year, repo in shards.repos.items() if shards else ():
            report.articles += done[year] if year in done else store.catalog.rebuild(repo.root, year)
        report.rewritten = regenerate(config, store, None)
        store.catalog.commit()
    return report
