"""Fixtures for the parse tests: the feedparser corpus and its per-document metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsmirror.parse.encoding import decode_document
from tests.conftest import require_shared

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_JSON_TEST = re.compile(r'"__TEST__"\s*:\s*"(.*?)"', re.DOTALL)


@dataclass(frozen=True)
class CorpusDoc:
    rel: str
    """Path relative to the corpus root, with '/' separators."""
    body: bytes
    headers: tuple[tuple[str, str], ...]
    """The document's ``Header:`` lines."""
    expect: str

    @property
    def content_type(self) -> str | None:
        return next((value for name, value in self.headers if name.lower() == "content-type"), None)


def read_metadata(body: bytes) -> tuple[tuple[tuple[str, str], ...], str]:
    """(headers, Expect expression) from the leading comment of a corpus document."""
    head = decode_document(body[:6000])[0]
    match = _COMMENT.search(head) or _JSON_TEST.search(head)
    headers: list[tuple[str, str]] = []
    expect = ""
    for line in (match.group(1) if match else "").splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Header":
            name, _, header_value = value.strip().partition(":")
            headers.append((name.strip(), header_value.strip()))
        elif key == "Expect":
            expect = value.strip()
    return tuple(headers), expect


@pytest.fixture(scope="session")
def corpus_dir(testdata_dir: Path) -> Path:
    return require_shared(testdata_dir / "feedparser-corpus", "the feedparser corpus")


@pytest.fixture(scope="session")
def corpus(corpus_dir: Path) -> list[CorpusDoc]:
    docs = []
    for path in sorted(corpus_dir.rglob("*")):
        if not path.is_file() or path.parent == corpus_dir:
            continue  # LICENSE, SOURCE.txt
        body = path.read_bytes()
        headers, expect = read_metadata(body)
        docs.append(CorpusDoc(path.relative_to(corpus_dir).as_posix(), body, headers, expect))
    return docs
