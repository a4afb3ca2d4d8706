"""The article file format of shared FORMAT.md, written and read back byte for byte.

    <!--EPOCH_MS-->
    [TITLE](LINK)
    ------
    (empty line)
    BODY\n
"""

from __future__ import annotations

import re

from newsmirror.models import Article

# What JavaScript's String.prototype.trim() removes: WhiteSpace (incl. U+FEFF and every
# Unicode Zs) and LineTerminator. Python's str.strip() differs (it strips U+001C-U+001F
# and U+0085, and keeps U+FEFF), so the set is spelled out.
JS_WHITESPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_COLLAPSE = re.compile(f"[{JS_WHITESPACE}]+")
_HEADER = re.compile(r"<!--(-?\d+)-->\Z")


class ArticleFormatError(ValueError):
    """An article file that does not follow FORMAT.md."""


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def normalise_body(html: str) -> str:
    """FORMAT.md's body rule: every line trimmed, the lines joined with no separator."""
    return "".join(js_trim(line) for line in html.split("\n"))


def normalise_title(title: str) -> str:
    """Trimmed, with inner runs of white space (line breaks included) folded to one space,
    so a title can never break the one-line layout."""
    return _COLLAPSE.sub(" ", js_trim(title))


def render_article(article: Article) -> bytes:
    """The exact bytes of an article file."""
    text = (
        f"<!--{article.published_ms}-->\n"
        f"[{normalise_title(article.title)}]({article.link})\n"
        "------\n"
        "\n"
        f"{normalise_body(article.body)}\n"
    )
    return text.encode("utf-8")


def parse_article(data: bytes, *, name: str = "article") -> Article:
    """Read the four parts back. Raises ArticleFormatError naming `name` when the file is
    not in the format."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleFormatError(f"{name}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    lines = text.split("\n")
    if len(lines) < 5 or lines[2] != "------" or lines[3] != "":
        raise ArticleFormatError(f"{name}: not the four-part article layout")
    match = _HEADER.match(lines[0])
    if not match:
        raise ArticleFormatError(f"{name}: line 1 is not <!--EPOCH_MS-->")
    heading = lines[1]
    split = heading.rfind("](")
    if not heading.startswith("[") or split < 0 or not heading.endswith(")"):
        raise ArticleFormatError(f"{name}: line 2 is not [TITLE](LINK)")
    return Article(
        published_ms=int(match.group(1)),
        title=heading[1:split],
        link=heading[split + 2 : -1],
        body="\n".join(lines[4:]).removesuffix("\n"),
    )
