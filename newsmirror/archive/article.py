"""The article file format of shared FORMAT.md, written and read back byte for byte.

    <!--EPOCH_MS-->
    [TITLE](LINK)
    ------
    (empty line)
    BODY\n
"""

from __future__ import annotations

import re

from newsmirror.archive.mdlink import markdown_link, split_link
from newsmirror.errors import NewsmirrorError
from newsmirror.models import Article

# What JavaScript's String.prototype.trim() removes: WhiteSpace (incl. U+FEFF and every
# Unicode Zs) and LineTerminator. Python's str.strip() differs (it strips U+001C-U+001F
# and U+0085, and keeps U+FEFF), so the set is spelled out.
UNTITLED = "（无标题）"
"""The title of an article whose feed or page gave none."""
JS_WHITESPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_LINE_BREAKS = "\n\r\u000b\u000c\u0085\u2028\u2029"
_SPACE_RUN = re.compile(f"[{JS_WHITESPACE}\u0085]+")
# C0 and C1 control characters and DEL, but for the tab (white space, and kept in HTML
# and titles as the feed gave it). Git takes a file with a NUL for binary; the others
# make no sense in text and can hide or disguise what a reader sees.
_CONTROLS = re.compile("[\u0000-\u0008\u000a-\u001f\u007f-\u009f]")
_CONTROLS_BUT_LF = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f]")
_HEADER = re.compile(r"<!--(-?\d+)-->\Z")


class ArticleFormatError(NewsmirrorError, ValueError):
    """An article file that does not follow FORMAT.md."""


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def strip_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` without C0/C1 control characters and DEL (tabs kept; line feeds too if asked)."""
    return (_CONTROLS_BUT_LF if keep_newlines else _CONTROLS).sub("", text)


def normalise_body(html: str) -> str:
    """FORMAT.md's body rule: every line trimmed, the lines joined with no separator;
    control characters dropped first (line ends apart, which the rule joins)."""
    return "".join(js_trim(line) for line in strip_controls(html, keep_newlines=True).split("\n"))


def _fold_line_break(match: re.Match[str]) -> str:
    run = match.group(0)
    return " " if any(ch in _LINE_BREAKS for ch in run) else run


def normalise_title(title: str) -> str:
    """The title as the feed gave it, on one line: a run of white space that holds a line
    break becomes one space, control characters are dropped, the ends are trimmed. Other
    white space (double spaces, U+3000) is kept, as the old mirrors kept it."""
    return js_trim(strip_controls(_SPACE_RUN.sub(_fold_line_break, title)))


def clean_link(link: str) -> str:
    """The link without control characters (a URL parser has already encoded or dropped
    them in any link taken from a feed; this guards the one-line layout)."""
    return strip_controls(link)


def render_heading(title: str, link: str, *, body: str = "") -> str:
    """Line 2: the title as one Markdown link to `link`, escaped only where it must be."""
    return markdown_link(normalise_title(title), clean_link(link), context=_heading_context(body))


def _heading_context(body: str) -> str:
    """What follows line 2 as far as it matters to it: it is read as it stands, above
    '------', and a body that starts with '[' can define link labels it would then use."""
    return "\n------\n\n" + (body if body.startswith("[") else "")


def render_article(article: Article) -> bytes:
    """The exact bytes of an article file."""
    body = normalise_body(article.body)
    text = (
        f"<!--{article.published_ms}-->\n"
        f"{render_heading(article.title, article.link, body=body)}\n"
        "------\n"
        "\n"
        f"{body}\n"
    )
    return text.encode("utf-8")


def _split_article(data: bytes, name: str) -> tuple[int, str, str]:
    """(EPOCH_MS, line 2, what follows the heading's four lines), the file checked as
    FORMAT.md says; raises ArticleFormatError naming `name`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleFormatError(f"{name}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    # The body is kept whole: only the heading's three lines need splitting off.
    lines = text.split("\n", 4)
    if len(lines) < 5 or lines[2] != "------" or lines[3] != "":
        raise ArticleFormatError(f"{name}: not the four-part article layout")
    match = _HEADER.match(lines[0])
    if not match:
        raise ArticleFormatError(f"{name}: line 1 is not <!--EPOCH_MS-->")
    return int(match.group(1)), lines[1], lines[4]


def _read_heading(line: str, body: str, name: str) -> tuple[str, str]:
    heading = split_link(line, context=_heading_context(body))
    if heading is None:
        raise ArticleFormatError(f"{name}: line 2 is not [TITLE](LINK)")
    return heading


def parse_article(data: bytes, *, name: str = "article") -> Article:
    """Read the four parts back. Raises ArticleFormatError naming `name` when the file is
    not in the format."""
    published_ms, line, rest = _split_article(data, name)
    body = rest.removesuffix("\n")
    title, link = _read_heading(line, body, name)
    return Article(published_ms=published_ms, title=title, link=link, body=body)


def parse_heading(data: bytes, *, name: str = "article") -> tuple[int, str, str]:
    """(published_ms, title, link) of an article file, checked as parse_article checks
    it, without copying out the body: what the catalog keeps of every file it reads."""
    published_ms, line, rest = _split_article(data, name)
    # Only a body that starts with '[' bears on how line 2 reads (see _heading_context).
    title, link = _read_heading(line, rest.removesuffix("\n") if rest.startswith("[") else "", name)
    return published_ms, title, link
