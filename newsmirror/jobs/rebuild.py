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
        # Opening already rebuilt a missing catalog; reading every file twice helps nothing.
        count = store.catalog.rebuilt
        # Every shard's files too (cloned when missing): the lists span them all, and a
        # catalog that lacks a shard's entries would list only the main repository's.
        shards = session.open_shards(files=True)
        store.catalog.begin()
        report.articles = count if count is not None else store.catalog.rebuild(store.root)
        for year, repo in shards.repos.items() if shards else ():
            report.articles += store.catalog.rebuild(repo.root, year)
        report.rewritten = regenerate(config, store, None)
        store.catalog.commit()
    return report
