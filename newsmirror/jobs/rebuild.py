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
        store.catalog.begin()
        # Opening already rebuilt a missing catalog; reading every file twice helps nothing.
        count = store.catalog.rebuilt
        report.articles = count if count is not None else store.catalog.rebuild(store.root)
        report.rewritten = regenerate(config, store, None)
        store.catalog.commit()
    return report
