"""What a git host shows for a Markdown line: read with markdown-it-py, a CommonMark parser
(with GFM's tables and strikethrough, as git hosts render them)."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    # Say what the line links to even for a scheme markdown-it would refuse to link.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


MD = _parser()


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    """The link text as shown, when it is plain text (None-like '' otherwise)."""
    kinds: tuple[str, ...]
    """The token types inside the link."""


def links_in(markdown: str) -> list[list[str]]:
    """Every block's inline token types, to see what a document holds."""
    return [[c.type for c in t.children or []] for t in MD.parse(markdown) if t.type == "inline"]


def only_link(markdown: str, *, block: int = 0) -> Link | None:
    """The one link that inline block number `block` of `markdown` consists of, or None
    when that block is anything else (no link, two links, text outside the link, raw HTML)."""
    inlines = [t for t in MD.parse(markdown) if t.type == "inline"]
    if block >= len(inlines):
        return None
    children = inlines[block].children or []
    if not children or children[0].type != "link_open" or children[-1].type != "link_close":
        return None
    kinds = tuple(c.type for c in children)
    if kinds.count("link_open") != 1 or "html_inline" in kinds:
        return None
    inner = children[1:-1]
    text = "".join(c.content for c in inner if c.type in ("text", "code_inline"))
    return Link(href=str(children[0].attrGet("href")), text=text, kinds=tuple(c.type for c in inner))


def href_of(target: str) -> str:
    """The href markdown-it writes for a link to `target`."""
    return MD.normalizeLink(target)
