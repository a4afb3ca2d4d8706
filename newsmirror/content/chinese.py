"""Simplified / Traditional Chinese conversion with OpenCC (the `opencc` package).

`convert_html` changes only the text between tags: tag names, attributes (URLs, alt
text, …), comments, character references and the content of ``<script>``/``<style>``
keep their exact bytes.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from newsmirror.content.markup import Text, tokenize

if TYPE_CHECKING:
    import opencc

# opencc is imported when a conversion is first asked for, not when newsmirror starts
# (issue 16: start-up); `CONFIGS` is read from it then too.


@lru_cache(maxsize=1)
def _configs() -> tuple[str, ...]:
    import opencc

    return tuple(
        sorted(name.removesuffix(".json") for name in getattr(opencc, "CONFIGS", ()))
    ) or (
        "hk2s", "hk2sp", "hk2t", "jp2t", "s2hk", "s2hkp", "s2t", "s2tw", "s2twp", "t2hk",
        "t2jp", "t2s", "t2tw", "tw2s", "tw2sp", "tw2t",
    )


def __getattr__(name: str) -> tuple[str, ...]:
    """`CONFIGS`: OpenCC configuration names, e.g. ``t2s`` (Traditional to Simplified),
    ``s2t``, ``s2twp`` (Simplified to Taiwan usage, with phrases), ``tw2sp``, ``s2hk``."""
    if name == "CONFIGS":
        return _configs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_CHAR_REF = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")


def check_config(config: str) -> str:
    """`config` normalised ("S2T.json" -> "s2t"); ValueError naming the valid ones if
    unknown."""
    name = config.strip().lower().removesuffix(".json")
    if name not in _configs():
        raise ValueError(f"unknown OpenCC config {config!r}; choose one of {', '.join(_configs())}")
    return name


@cache
def _converter(name: str) -> opencc.OpenCC:
    import opencc

    return opencc.OpenCC(f"{name}.json")


def convert_text(text: str, config: str) -> str:
    """Plain `text` converted with OpenCC `config`."""
    converter = _converter(check_config(config))
    return converter.convert(text) if text else text


def convert_html(html: str, config: str) -> str:
    """`html` with its text converted; markup, character references and script/style
    content left byte for byte."""
    converter = _converter(check_config(config))
    parts: list[str] = []
    for token in tokenize(html):
        chunk = html[token.start : token.end]
        if isinstance(token, Text) and not token.raw:
            chunk = _convert_between_refs(chunk, converter)
        parts.append(chunk)
    return "".join(parts)


def _convert_between_refs(text: str, converter: opencc.OpenCC) -> str:
    parts: list[str] = []
    pos = 0
    for match in _CHAR_REF.finditer(text):
        parts += [converter.convert(text[pos : match.start()]), match.group()]
        pos = match.end()
    parts.append(converter.convert(text[pos:]))
    return "".join(parts)
