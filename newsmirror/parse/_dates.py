"""Keep fastfeedparser from inventing dates.

fastfeedparser's last-resort date parsers (dateutil, and dateparser when it is
installed) fill whatever a date string leaves out -- the year, the month, the
day, or all of them for "10:30" or "yesterday" -- from the current date. The
archive must never record a time the feed did not give, so :func:`install`
swaps them for a dateutil parse that refuses incomplete dates. feedparser
already refuses them, so both parsers agree.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from dateutil import parser as dateutil_parser

# Two defaults that differ in every date field: a field the string does not give
# comes out differently under each.
_DEFAULTS = (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2))

_TZINFOS: dict[str, int] = {}


@lru_cache(maxsize=512)
def strict_dateutil_parse(value: str) -> dt.datetime | None:
    """dateutil's reading of ``value``, or None unless it names year, month and day."""
    try:
        first, second = (
            dateutil_parser.parse(value, default=default, tzinfos=_TZINFOS, ignoretz=False) for default in _DEFAULTS
        )
    except (ValueError, TypeError, ArithmeticError):
        return None
    return first if first.date() == second.date() else None


def _refuse(value: str) -> None:
    return None


def install() -> None:
    """Point fastfeedparser's fallback date parsers at the strict one (idempotent)."""
    from fastfeedparser import main

    _TZINFOS.update(getattr(main, "_custom_tzinfos", {}))
    if hasattr(main, "_slow_dateutil_parse"):
        main._slow_dateutil_parse = strict_dateutil_parse
    if hasattr(main, "_slow_dateparser"):
        # dateparser reads relative phrases ("2 hours ago") against the clock.
        main._slow_dateparser = _refuse
