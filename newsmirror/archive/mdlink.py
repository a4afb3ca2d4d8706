"""One Markdown link, `[TEXT](TARGET)`, that renders as exactly one link and reads back exactly.

Line 2 of every article file and every line of a list page is such a link. Text and target
are written as they are whenever CommonMark (what git hosts render) already reads them as
one link with that text and that target: the old mirrors wrote them so, and an archive they
started must stay byte for byte the same. Only a text or target that would otherwise break
the link is escaped, with CommonMark's own means (backslash escapes; a target in angle
brackets), so :func:`split_link` can always read back exactly what :func:`markdown_link`
wrote.

markdown-it-py, a CommonMark parser, decides what "already reads as one link" means.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# markdown_it is imported when a line is first written or read, not at start-up (issue 16).

_PUNCT = r"""!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"""
_BACKSLASH_ENTITY = "&#0092;"  # zero-padded: no feed writes it so, so it can mean ours
_ESCAPED = re.compile(f"\\\\([{_PUNCT}])|{_BACKSLASH_ENTITY}")
"""What :func:`unescape` undoes: a backslash before ASCII punctuation, and the entity for a
backslash (written for a backslash before '|', see :func:`_escape`)."""
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
"""An '&' that starts what CommonMark may read as an entity reference."""
_OUR_ENTITY = re.compile(re.escape(_BACKSLASH_ENTITY))
_MAY_BREAK = re.compile(r"[\[\]\\`<]|&#0092;")
_TEXT_PLAIN = "\\[]"
_TEXT_ALL = "\\[]`<"
_TARGET_ANGLE = "\\<>"
_PLAIN_TARGET = re.compile(r"[^\x00-\x20\x7f\\()]+")
"""A target without what `parseLinkDestination` stops at or unescapes (space, controls,
parentheses, backslash): it reads every other character, any script, as it is."""


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])  # as git hosts read it
    # Which schemes a surface may link to is decided elsewhere (publish.links); here only
    # the structure of the line counts.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def unescape(text: str) -> str:
    """What :func:`_escape` did undone (other entity references are left as written)."""
    return _ESCAPED.sub(lambda m: m.group(1) or "\\", text)


def _escape(text: str, specials: str, entities: re.Pattern[str]) -> str:
    """`text` with a backslash before each of `specials`, and before each '&' where
    `entities` matches. A backslash right before '|' is written as an entity instead: in a
    line followed by '------', GFM reads a line whose every '|' follows a backslash as a
    one-column table, and takes those backslashes for its own."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\" and text.startswith("|", i + 1):
            out.append(_BACKSLASH_ENTITY)
        elif ch in specials or (ch == "&" and entities.match(text, i)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _raw_target_ok(target: str) -> bool:
    """True when `target`, written as it is, is a link destination CommonMark reads as
    exactly `target`, and :func:`split_link` can find its start."""
    if not target:
        return True
    if "](" in target or "<" in target or ">" in target:
        return False
    if _PLAIN_TARGET.fullmatch(target) and not ("&" in target and ";" in target):
        # Nothing in it the parser would stop at, unescape or decode (no space, control,
        # parenthesis, backslash or entity): it reads as itself (tests compare the two).
        return True
    # Read as it stands in the line, before the closing ')': a final '\\' would escape it.
    from markdown_it.helpers import parseLinkDestination

    found = parseLinkDestination(target + ")", 0, len(target) + 1)
    return found.ok and found.pos == len(target) and found.str == target


def _target(target: str) -> str:
    if _raw_target_ok(target):
        return target
    return "<" + _escape(target, _TARGET_ANGLE, _ENTITY) + ">"


def _is_one_link(line: str, target: str, context: str) -> bool:
    """True when `line` (followed by `context`, the rest of the file) is one paragraph that
    is one link to `target` and nothing else: no second link, no raw HTML, no image."""
    md = _parser()
    tokens = md.parse(line + context)
    kinds = [token.type for token in tokens[:3]]
    if kinds not in (["paragraph_open", "inline", "paragraph_close"], ["heading_open", "inline", "heading_close"]):
        return False
    inline = tokens[1]
    if inline.content != line:
        return False
    children = inline.children or []
    if not children or children[0].type != "link_open" or children[-1].type != "link_close":
        return False
    kinds = [child.type for child in children]
    if kinds.count("link_open") != 1 or "html_inline" in kinds or "image" in kinds:
        return False
    return children[0].attrGet("href") == md.normalizeLink(target)


def markdown_link(text: str, target: str, *, context: str = "") -> str:
    """`[text](target)`, escaped only as far as needed to be one link with that text to that
    target. `text` and `target` must be on one line (no line breaks, no control characters).
    `context` is what follows the line in its file, when it could define link labels."""
    written = _target(target)
    if not _MAY_BREAK.search(text) and written == target:
        # Without these characters link text can hold no escape, code span, HTML, nested
        # link or bracket to close the link early (tests check this against the parser).
        return f"[{text}]({target})"
    if unescape(text) == text:
        line = f"[{text}]({written})"
        if _is_one_link(line, target, context):
            return line
    # Escapes work everywhere but in code spans, autolinks and raw HTML, which need a '`'
    # or a '<': without those, escaping the brackets and backslashes is enough.
    pattern = _TEXT_PLAIN if not ("`" in text or "<" in text) else _TEXT_ALL
    line = f"[{_escape(text, pattern, _OUR_ENTITY)}]({written})"
    if not _is_one_link(line, target, context):
        line = f"[{_escape(text, _TEXT_ALL, _OUR_ENTITY)}]({written})"
    return line


def split_link(line: str, *, context: str = "") -> tuple[str, str] | None:
    """The text and target of a line :func:`markdown_link` wrote (or an old mirror wrote,
    unescaped); None when `line` is not `[TEXT](TARGET)`. `context` is what follows the
    line in its file, as it was given to :func:`markdown_link`."""
    if not line.startswith("[") or not line.endswith(")"):
        return None
    if line.endswith(">)"):
        split = line.rfind("](<")
        if split >= 0 and _angle_closed(line[split + 3 : -2]):
            target = unescape(line[split + 3 : -2])
            return _read_text(line, line[1:split], target, context), target
    split = line.rfind("](")
    if split < 0:
        return None
    target = line[split + 2 : -1]
    return _read_text(line, line[1:split], target, context), target


def _read_text(line: str, written: str, target: str, context: str) -> str:
    """The text `written` in `line` stands for. The older mirrors (and older newsmirror)
    wrote every title as it was, so a backslash in an old line 2 may be the title's own
    (a feed title `他说\\"不\\"`): it is undone only when :func:`markdown_link` would have
    written this very line for the text without it. Otherwise the text is kept as written,
    so that an old file reads back with the title the feed still gives, and stays as it is."""
    text = unescape(written)
    if text == written or markdown_link(text, target, context=context) == line:
        return text
    return written


def _angle_closed(inner: str) -> bool:
    """True when `inner` holds no unescaped '<' or '>' (so '<inner>' is one destination)."""
    stripped = re.sub(r"\\.", "", inner)
    return "<" not in stripped and ">" not in stripped
