"""Every path in an archive, named once here, and where an article lives:
articles/<slug>/<YYYY>/<MM>/<title>-<hash>.md.

Month folders keep every directory far below the 3,000 entries a git host handles well.
File names are readable (they carry the title), stable (chosen once, when the article is
first archived) and safe on Linux, macOS and Windows.
"""

from __future__ import annotations

import html
import re
import unicodedata

from newsmirror.dates import china_time

MAX_NAME_BYTES = 200
NAME_RE = re.compile(r"-([0-9a-f]{12})\.md\Z")
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}\Z")

# Characters that are unsafe in a file name on some system, or that would break the
# Markdown links of the list pages ([text](path)): they become '-'.
_UNSAFE = re.compile(r'[/\\:*?"<>|#%\[\]()`{}^~\s]+')
_DASHES = re.compile(r"-{2,}")
# Device names Windows reserves in every folder, with any extension and in any case
# ("aux", "CON.txt", "LPT9", "nul", "COM¹"); Git for Windows refuses to check them out.
_WINDOWS_DEVICES = re.compile(r"(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)\Z",
                              re.IGNORECASE)


def windows_reserved(name: str) -> bool:
    """True when Windows takes the file or folder name `name` for a device: the part
    before the first dot, less trailing spaces, is a device name."""
    return bool(_WINDOWS_DEVICES.match(name.split(".", 1)[0].rstrip(" ")))


def valid_slug(slug: str) -> bool:
    """A source slug, usable as a folder name on every system."""
    return bool(SLUG_RE.match(slug)) and not windows_reserved(slug)


def safe_title(title: str, max_bytes: int) -> str:
    """A file-name-safe, readable rendering of the title, at most `max_bytes` UTF-8 bytes."""
    # A title keeps a double-escaped '&quot;' as the feed gave it; a file name reads better
    # with the character (which may then be replaced below).
    text = unicodedata.normalize("NFC", html.unescape(title))
    # Control, format, surrogate, private and unassigned characters are dropped. A printable
    # text has none of them (isprintable is False for each category C), and most titles are.
    if not text.isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n\r")
    text = _DASHES.sub("-", _UNSAFE.sub("-", text)).strip("-. ")
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", errors="ignore").rstrip("-. ")
    if windows_reserved(text):
        stem, dot, rest = text.partition(".")
        text = f"{stem.rstrip(' ')}_{dot}{rest}"
    return text or "article"


ARTICLES_DIR = "articles"
"""articles/<slug>/<YYYY>/<MM>/<title>-<hash>.md: every source's articles."""
FEEDS_DIR = "feeds"
ALL_FEED = f"{FEEDS_DIR}/all.xml"
"""The combined feed; each source's is feed_path(slug)."""
README = "README.md"
LISTS_DIR = "lists"
"""lists/<slug>.md per source, and the lists that are no source's (LIST_TITLES)."""
ASSETS_DIR = "assets"
"""assets/<slug>/<YYYY>/<MM>/<name>.<ext>: images downloaded into the archive."""

STATE_DIR = ".newsmirror"
"""newsmirror's own files in the archive; all but CACHE_DIR are committed."""
CACHE_DIR = f"{STATE_DIR}/cache"
"""Never committed: the catalog, the page cache, the run lock and what only speeds up
the next run (rebuilt when missing)."""
CATALOG_FILE = f"{CACHE_DIR}/catalog.sqlite"
"""The catalog (archive/catalog.py): a cache, rebuilt from the files when it is missing."""
HEALTH_FILE = f"{STATE_DIR}/health.json"
MIRRORS_FILE = f"{STATE_DIR}/mirrors.json"
"""Each mirror's push state, committed when it changes."""
CACHED_MIRRORS_FILE = f"{CACHE_DIR}/mirrors.json"
WATCH_FILE = f"{STATE_DIR}/watch.tsv"
"""What `watch` checked when."""
DIST_DIR = f"{STATE_DIR}/dist"
"""A wheel of newsmirror that the workflows install, when no git address of it is known."""
CONSTRAINTS_FILE = f"{STATE_DIR}/constraints.txt"
"""The workflows' pinned dependencies."""
SITE_PUBLISHED = f"{CACHE_DIR}/site-published.json"
"""What the last publication of the reading site was built from, and its commit."""
SHARD_SITES_PUBLISHED = f"{CACHE_DIR}/shard-sites-published.json"
"""By shard: what the last publication of its site that its primary took was built from,
kept in the main repository's cache, which outlives a closed shard's clone."""
SITE_STATE_COPY = f"{CACHE_DIR}/site-state.db"
"""The state of the site that publication pushed (publish/sitestate.py), so that a build
on a fresh runner starts from it (publish/pages.restore_published)."""
SHARDS_INDEX = "shards.json"
"""The index of the yearly shards (archive/shards.py), in the main repository."""
SHARDS_DIR = f"{CACHE_DIR}/shards"
"""Where the clones of the shard repositories live: one folder each, named after its year."""


def feed_path(name: str) -> str:
    """feeds/<name>.xml: the Atom feed of a source (or `all`, every source)."""
    return f"{FEEDS_DIR}/{name}.xml"


def source_list_path(slug: str) -> str:
    """lists/<slug>.md: a source's list page, unless its configuration names another."""
    return f"{LISTS_DIR}/{slug}.md"


REQUESTS_DIR = "requests"
"""Pages archived on request, named like articles: requests/<YYYY>/<MM>/<title>-<hash>.md."""
REQUESTS_LIST = f"{LISTS_DIR}/requests.md"
CHANGED_LIST = f"{LISTS_DIR}/changed.md"
REMOVED_LIST = f"{LISTS_DIR}/removed.md"
LIST_TITLES = {
    REQUESTS_LIST: "按请求存档的网页 Pages archived on request",
    CHANGED_LIST: "原文已被修改的文章 Articles edited at the source",
    REMOVED_LIST: "原文已被删除的文章 Articles removed at the source",
}
"""The lists that are no source's, with their titles (the page's heading and its line in
the README)."""


def dated_path(folder: str, published_ms: int, title: str, key_hash: str) -> str:
    """<folder>/<YYYY>/<MM>/<title>-<hash>.md (China time), the name cut to fit."""
    when = china_time(published_ms)
    suffix = f"-{key_hash}.md"
    name = safe_title(title, MAX_NAME_BYTES - len(suffix.encode())) + suffix
    return f"{folder}/{when:%Y}/{when:%m}/{name}"


def article_path(slug: str, published_ms: int, title: str, key_hash: str) -> str:
    """The archive-relative path for a newly archived article."""
    if not valid_slug(slug):
        raise ValueError(f"invalid source slug {slug!r}")
    return dated_path(f"{ARTICLES_DIR}/{slug}", published_ms, title, key_hash)


def request_path(published_ms: int, title: str, key: str) -> str:
    """The archive-relative path of a page archived on request, named like an article."""
    return dated_path(REQUESTS_DIR, published_ms, title, key)


def key_from_path(path: str) -> str | None:
    match = NAME_RE.search(path)
    return match.group(1) if match else None
