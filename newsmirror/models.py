"""Small dataclasses passed between the stages of a run.

Every stage takes and returns these; none of them does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def plural(n: int, word: str) -> str:
    """`1 source`, `2 sources`: a number and an English noun that agrees with it."""
    return f"{n} {word}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class FeedImage:
    """An image the feed gives for an item outside its body (media:content,
    media:thumbnail, an image enclosure)."""

    url: str
    caption: str | None = None


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as the parser understood it (nothing rewritten yet)."""

    title: str
    link: str | None
    guid: str | None
    content_html: str
    """Full content when the feed carries it, else the summary, else ''."""
    has_full_content: bool
    published_ms: int | None
    """pubDate / published / updated / dc:date in epoch milliseconds (UTC), None when absent."""
    images: tuple[FeedImage, ...] = ()
    """The item's images from media:content, media:thumbnail and image enclosures, in that
    order of preference (not part of its identity or of what counts as a change)."""


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    items: tuple[FeedItem, ...]
    encoding: str
    """The encoding the document was decoded with."""
    problem: str | None = None
    """A readable note when the document was malformed but still parsed (feedparser's bozo)."""
    failed_items: tuple[ItemFailure, ...] = ()
    """Entries that could not be read (the others were)."""


@dataclass(frozen=True)
class Article:
    """The four parts of an archived article file (see shared FORMAT.md)."""

    published_ms: int
    title: str
    link: str
    body: str
    """The article HTML, already normalised to one line."""


@dataclass(frozen=True)
class ArchivedEntry:
    """What the catalog knows of one article file."""

    slug: str
    key: str
    """The identity hash also carried in the file name."""
    path: str
    """Path relative to the archive root, with '/' separators."""
    published_ms: int
    title: str
    link: str
    digest: str
    """sha256 of the file's bytes."""
    shard: str = ""
    """The shard repository that holds the file (its year, see archive/shards.py); ''
    for the archive's own repository."""


@dataclass(frozen=True)
class ItemFailure:
    """One feed item (or requested page) that could not be archived; the others were."""

    item: str
    """What names it to a reader: its link, else its title."""
    step: str
    """Where it failed: parse, identity, date, cleaning, extraction, images, rendering or
    writing."""
    reason: str
    bug: bool = False
    """An internal error: a bug in newsmirror to report, not a fault of the item."""
    traceback: str | None = None
    """Where the bug was, for --verbose and the log."""

    def describe(self) -> str:
        return f"{self.item}: not archived ({self.step}): {self.reason}"


@dataclass
class SourceOutcome:
    """What one source's part of a run did, for the summary and the commit message."""

    slug: str
    name: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: str | None = None
    skipped: str | None = None
    """Why the source was not attempted this run (backing off, dead)."""
    not_modified: bool = False
    written: list[str] = field(default_factory=list)
    """Archive-relative paths written this run."""
    failed_items: list[ItemFailure] = field(default_factory=list)
    """Items of this source that could not be archived this run (the next run tries them
    again)."""
