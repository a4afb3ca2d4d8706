"""The bundled default source list (bundled.toml, shipped as package data).

A config takes these with `bundled_sources = true` (all of them) or a list of slugs; the
config checker validates each entry exactly like a [[sources]] table the reader wrote.
The file's [every_source] table gives settings every entry takes unless it says otherwise.
"""

from __future__ import annotations

import copy
import tomllib
from functools import cache
from importlib import resources
from typing import Any

_FILE = "bundled.toml"


@cache
def _load() -> tuple[dict[str, Any], ...]:
    text = resources.files(__package__).joinpath(_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    entries = data.get("sources", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{__package__}/{_FILE}: 'sources' must be an array of tables")
    shared = data.get("every_source", {})
    if not isinstance(shared, dict):
        raise TypeError(f"{__package__}/{_FILE}: 'every_source' must be a table")
    return tuple({**shared, **entry} for entry in entries)


def bundled_sources() -> list[dict[str, Any]]:
    """The bundled sources, in file order. Each call returns fresh copies, so a caller
    may change what it gets without touching the cached list."""
    return [copy.deepcopy(entry) for entry in _load()]
