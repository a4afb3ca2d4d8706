"""The static site's search index: Chinese-aware tokens in sharded posting files.

Tokens (``search.js`` applies exactly the same rules to a query):

* the text is NFKC-normalised (full-width Latin and digits become ASCII), lower-cased,
  and every Traditional Chinese character is folded to its Simplified form (OpenCC's
  ``t2s`` character by character), so that 臺灣 finds 台湾 and 調查 finds 调查;
* every run of CJK characters (Han, kana, Hangul) gives its overlapping character
  bigrams and its single characters: 美朝会晤 -> 美朝, 朝会, 会晤, 美, 朝, 会, 晤;
* every other run of letters and digits is one word (cut at 40 characters).

A query is cut the same way, except that a CJK run of two or more characters gives only
its bigrams (they are far more selective) and a lone CJK character gives itself. A query
matches the documents holding all of its tokens; search.js then puts first those whose
title or snippet contains the query (folded the same way).

The fold table travels with the index (``search/fold.js``), so search.js folds a query
exactly as the index was folded, whatever OpenCC version built it.

Layout under ``search/`` (documents get stable numeric ids; a segment holds 4096 ids, so
new articles only ever touch the shards of the newest segment):

* ``fold.js``: ``{"from": traditional characters, "to": their simplified forms}``;
* ``meta.js``: shard count, segment count, doc chunk size, source names;
* ``<segment>/<hh>.js``: postings ``{token: [id deltas]}`` of the tokens whose FNV-1a hash
  is ``hh`` modulo the shard count (missing file: no token there);
* ``docs/<n>.js``: ``{id: [title, href, slug, date, snippet]}`` for ids ``n*256`` on.

Each file is one call ``newsmirrorSearch("key", JSON);`` so it loads through a script tag,
which also works for a site opened from disk (file://), where fetch() is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import accumulate

from newsmirror.content.chinese import convert_text
from newsmirror.content.text import html_text

TOKENIZER_VERSION = 3
"""3: the text is content/text.py's (navigation, forms and embeds left out), so an index
of version 2 is rebuilt."""
SHARDS = 256
SEGMENT_SIZE = 4096
DOC_CHUNK = 256
MAX_WORD = 40
SNIPPET_CHARS = 160
CALLBACK = "newsmirrorSearch"

# Kept in step with CJK in templates/search.js.
_CJK = (
    "\u1100-\u11ff\u3007\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
_TOKEN = re.compile(f"([{_CJK}]+)|((?:(?![{_CJK}])[^\\W_])+)")
_SPACE = re.compile(r"\s+")


# -- text and tokens -------------------------------------------------------------------
def search_text(html: str) -> str:
    """What the index and the snippets read of a body: the article's text (the one reading
    of it, content/text.py) on one line."""
    return _SPACE.sub(" ", html_text(html)).strip()


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


# Han characters that OpenCC may fold: the unified ideographs and their extensions.
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2FA1F))


@lru_cache(maxsize=1)
def fold_pairs() -> tuple[str, str]:
    """(traditional, simplified): two strings of equal length, character for character.

    Only pairs of the same UTF-16 length are kept, so that search.js can fold a title
    without moving the offsets it highlights."""
    chars = [chr(c) for low, high in _HAN_RANGES for c in range(low, high + 1)]
    folded = convert_text("\n".join(chars), "t2s").split("\n")
    if len(folded) != len(chars):  # OpenCC joined or split lines: fold nothing
        return "", ""
    pairs = [(a, b) for a, b in zip(chars, folded)
             if a != b and len(b) == 1 and (ord(a) > 0xFFFF) == (ord(b) > 0xFFFF)]
    return "".join(a for a, _ in pairs), "".join(b for _, b in pairs)


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    source, target = fold_pairs()
    return {ord(a): b for a, b in zip(source, target)}


def fold_digest() -> str:
    """A short digest of the fold table: an index built with another table is rebuilt."""
    source, target = fold_pairs()
    return hashlib.sha256(f"{source}\0{target}".encode()).hexdigest()[:16]


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(_fold_table())


def tokens(text: str) -> set[str]:
    """The index tokens of `text`: CJK bigrams and characters, lower-cased words."""
    found: set[str] = set()
    for match in _TOKEN.finditer(normalise(text)):
        run = match.group()
        if match.group(1):
            found.update(run[i : i + 2] for i in range(len(run) - 1))
            found.update(run)
        else:
            found.add(run[:MAX_WORD])
    return found


def query_tokens(query: str) -> set[str]:
    """The tokens a query looks up (search.js agrees): the bigrams of each CJK run of two
    or more characters, a lone CJK character itself, and words."""
    found: set[str] = set()
    for match in _TOKEN.finditer(normalise(query)):
        run = match.group()
        if match.group(1) and len(run) > 1:
            found.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            found.add(run[:MAX_WORD])
    return found


def shard_of(token: str, shards: int = SHARDS) -> int:
    """FNV-1a (32 bit) of the token's UTF-8 bytes, modulo `shards` (search.js agrees)."""
    value = 0x811C9DC5
    for byte in token.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % shards


# -- postings --------------------------------------------------------------------------
Postings = dict[str, list[int]]
"""token -> sorted document ids."""


def add_documents(postings: Postings, docs: Iterable[tuple[int, Iterable[str]]]) -> None:
    """Add (id, tokens) pairs; each token's ids stay sorted."""
    for doc_id, doc_tokens in docs:
        for token in doc_tokens:
            postings.setdefault(token, []).append(doc_id)
    for ids in postings.values():
        ids.sort()


def remove_documents(postings: Postings, doc_ids: set[int]) -> bool:
    """Drop `doc_ids` everywhere (and tokens left without documents); whether anything
    changed."""
    changed = False
    if not doc_ids:
        return changed
    for token in list(postings):
        ids = postings[token]
        if doc_ids.isdisjoint(ids):
            continue
        changed = True
        kept = [i for i in ids if i not in doc_ids]
        if kept:
            postings[token] = kept
        else:
            del postings[token]
    return changed


def merge_into_shards(shards: dict[int, Postings], postings: Postings,
                      count: int = SHARDS) -> set[int]:
    """Add `postings` to the per-shard postings `shards`; returns the shards changed."""
    touched: set[int] = set()
    for token, ids in postings.items():
        shard = shard_of(token, count)
        target = shards.setdefault(shard, {})
        existing = target.get(token)
        target[token] = sorted(set(existing).union(ids)) if existing else ids
        touched.add(shard)
    return touched


def encode_shard(shard: Postings) -> dict[str, list[int]]:
    """Ids as gaps (first id, then differences), which keeps the files small."""
    return {token: [b - a for a, b in zip([0, *ids], ids)] for token, ids in sorted(shard.items())}


def decode_shard(data: Mapping[str, list[int]]) -> Postings:
    return {token: list(accumulate(gaps)) for token, gaps in data.items()}


# -- files -----------------------------------------------------------------------------
def shard_path(segment: int, shard: int) -> str:
    return f"search/{segment}/{shard:02x}.js"


def docs_path(chunk: int) -> str:
    return f"search/docs/{chunk}.js"


def script_file(key: str, data: object) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"{CALLBACK}({json.dumps(key)},{payload});\n".encode()


def read_script_file(data: bytes) -> object:
    """The JSON payload of a file written by script_file; ValueError when it is not one."""
    text = data.decode("utf-8").strip()
    head = f"{CALLBACK}("
    if not text.startswith(head) or not text.endswith(");"):
        raise ValueError("not a search index file")
    key_end = text.index(",", len(head))
    return json.loads(text[key_end + 1 : -2])


def file_key(relpath: str) -> str:
    """The key search.js waits for: the path under search/ without '.js'."""
    return relpath.removeprefix("search/").removesuffix(".js")
