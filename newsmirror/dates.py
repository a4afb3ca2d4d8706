"""Every date newsmirror reads or writes: one module, used by every other part.

Reading. A date comes only from an element or field that states one: a feed item's
``pubDate`` / ``published`` / ``updated`` / ``dc:date`` (:func:`feed_date_ms`), a page's
``article:published_time``, JSON-LD ``datePublished``, ``<time datetime>`` or a site's
own time field (:func:`page_date_ms`). Nothing else is ever read as a date (not a guid,
not a title), and a date is never completed from the clock: a string that leaves out
the year, the month or the day ("10:30", "March 5", "yesterday") is no date. Beside
them: HTTP dates (:func:`http_date_s`, for Retry-After) and API timestamps
(:func:`api_time`, GitHub's ``created_at``).

The rules, applied here and nowhere else:

- **Sane range.** A moment before 1900 or from 2100 on (``31 Dec 9999``, year 0, a
  negative year, an epoch number with too many digits) is treated as absent, exactly
  like an item without a date: the caller then uses the time the item was first seen.
  Such dates are typos or placeholders, and beyond year 9999 no ``datetime`` can hold
  them; inside the range every function below is total.
- **No zone.** A feed date without a zone is UTC: RFC 822 and RFC 3339 require a zone,
  and feedparser, fastfeedparser and the mirrors whose archives newsmirror continues
  all read a missing one as UTC, so this keeps every existing article's time. A page
  date without a zone ("2023-05-01 12:34", "2023年5月1日") is China time
  (:data:`CHINA_TIME`): that is what the Chinese outlets and platforms whose pages are
  archived print, for readers in China. The time after a space is kept.
- **GMT+8.** "GMT+8", "UTC-5", "GMT+0800 (China Standard Time)" mean what their writers
  mean, the offset east of UTC (GMT+8 is China time), not POSIX TZ's reverse.
- **Output.** Epoch milliseconds, UTC. Feed dates are whole seconds (what both feed
  parsers give); page dates keep the milliseconds they state.

Writing. Folders and list dates are in China time (:func:`china_time`); machine-read
stamps (Atom, watch.tsv) are RFC 3339 UTC (:func:`utc_stamp`); messages for the
operator say UTC (:func:`utc_minutes`, :func:`utc_day`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
import warnings
from functools import lru_cache
from typing import Any


__all__ = [
    "CHINA_TIME", "EARLIEST_MS", "LATEST_MS", "api_time", "china_time", "feed_date_ms", "http_date_s",
    "in_range", "page_date_ms", "parse_utc_stamp", "utc_day", "utc_minutes",
    "utc_stamp",
]

CHINA_TIME = dt.timezone(dt.timedelta(hours=8))
"""UTC+8, all year (China has no daylight saving time)."""

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
EARLIEST_MS = int((dt.datetime(1900, 1, 1, tzinfo=_UTC) - _EPOCH).total_seconds()) * 1000
"""The first moment a stated date may name (1900-01-01T00:00Z)."""
LATEST_MS = int((dt.datetime(2100, 1, 1, tzinfo=_UTC) - _EPOCH).total_seconds()) * 1000
"""The first moment after the range (2100-01-01T00:00Z)."""

# Longer strings are not dates (and dateutil takes quadratic time on them).
_MAX_CHARS = 256

# Zone names as feeds spell them. RFC 822's own (UT, GMT, EST … PDT) and the others
# that common feed software writes; "CST" is RFC 822's US Central, as in both parsers.
_ZONE_HOURS: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2,
    "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "IST": 5.5, "HKT": 8, "SGT": 8,
    "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11,
    "NZST": 12, "NZDT": 13, "HST": -10, "AKST": -9, "AKDT": -8, "PST": -8, "PDT": -7,
    "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4,
}
# Spelled out; the Microsoft names some Chinese publishing systems write.
_ZONE_WORDS = {"CHINA STANDARD TIME": "+0800"}
_ZONE_SECONDS = {name: int(hours * 3600) for name, hours in _ZONE_HOURS.items()}

_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

_WHITESPACE = re.compile(r"\s+")
# RFC 822 / 2822 as feeds write it: optional weekday, day, month name, 2- or 4-digit
# year, time with optional seconds, a numeric or named zone.
_RFC822 = re.compile(
    r"(?:[A-Za-z]{3,9},?\s*)?(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{2}|\d{4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?\Z")
_ISO_START = re.compile(r"[+-]?\d{4}-")
_ISO_ZONE_SUFFIX = re.compile(r"\s*(?:[Zz]|UTC|GMT)\Z")
_ISO_SPACE_TIME = re.compile(r"\A(\d{4}-\d{2}-\d{2}) (?=\d)")
_ISO_ZONE_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})\Z")
_ISO_ZONE_HOURS = re.compile(r"(?<=\d)([+-]\d{2})\Z")
_ISO_FRACTION = re.compile(r"\.(\d+)")
_ISO_HOUR_24 = re.compile(r"\A(\d{4}-\d{2}-\d{2})T24:00(?::00(?:\.0+)?)?(?=[Zz+-]|\Z)")
# A page's own spelling: "2023-05-01 12:34", "2023/5/1", "2023年5月1日 12:34", with an
# optional zone; anywhere in the text ("发布于 2023-05-01"), but not as the end of a
# longer or signed number.
_PAGE_DATE = re.compile(
    r"(?<![\d+-])(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE)
_EPOCH_DIGITS = re.compile(r"\d{9,13}")
# "GMT+8", "UTC-5", "GMT+0800", "GMT+08:00" as people and JavaScript's Date write
# them: the offset east of Greenwich that the name is followed by (GMT+8 is China
# time), not the POSIX TZ reading (UTC-8) dateutil gives. A trailing comment after a
# numeric zone, "(China Standard Time)", "(中国标准时间)", "(CST)", only names it.
_GMT_OFFSET = re.compile(r"(?<![A-Za-z])(?:GMT|UTC) ?([+-])(\d{1,2})(?::?(\d{2}))?(?!\d)", re.IGNORECASE)
_ZONE_COMMENT = re.compile(r"(?:(?<=[+-]\d{4})|(?<=[+-]\d\d:\d\d)) ?\([^()]*\)\Z")

# Two defaults that differ in every date field: a field a string leaves out comes out
# differently under each, so dateutil's reading is kept only when both agree.
_DEFAULTS = (dt.datetime(2001, 1, 1), dt.datetime(2002, 2, 2))


# --- the range -------------------------------------------------------------------------


def in_range(epoch_ms: int | None) -> int | None:
    """``epoch_ms`` when it lies in the sane range [1900, 2100), else None (no date)."""
    if epoch_ms is None or not EARLIEST_MS <= epoch_ms < LATEST_MS:
        return None
    return epoch_ms


def _ms(moment: dt.datetime | None, naive_zone: dt.tzinfo, *, whole_seconds: bool) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone)
    try:
        delta = moment - _EPOCH
    except (OverflowError, ValueError):
        return None
    seconds = delta.days * 86400 + delta.seconds
    if whole_seconds:
        return in_range(seconds * 1000)
    return in_range(seconds * 1000 + delta.microseconds // 1000)


# --- reading ---------------------------------------------------------------------------


def feed_date_ms(text: Any) -> int | None:
    """Epoch ms of a feed date element's text (RFC 822, ISO 8601 / W3DTF, or another
    complete date); None when it is missing, unreadable, incomplete or out of range.
    Without a zone: UTC."""
    return _ms(_moment(text), _UTC, whole_seconds=True)


def page_date_ms(value: Any) -> int | None:
    """Epoch ms of a date as a web page states it: epoch seconds or milliseconds (a
    positive number, or 9 to 13 digits; more than 10**11 is milliseconds), ISO 8601, RFC 822, or "2023-05-01 12:34" / "2023年5月1日"
    anywhere in the text. Without a zone: China time. None when there is no date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        number = int(value)
        if number <= 0:
            return None  # 0 is a placeholder, and no web page predates 1970
        return in_range(number if number > 10**11 else number * 1000)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _EPOCH_DIGITS.fullmatch(text):
        return page_date_ms(int(text))
    found = _ms(_moment(text), CHINA_TIME, whole_seconds=False)
    if found is not None:
        return found
    match = _PAGE_DATE.search(text[:_MAX_CHARS * 4])
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                             int(second or 0), int((fraction or "0")[:6].ljust(6, "0")))
        if zone:
            moment = moment.replace(tzinfo=_fixed_zone(zone))
    except ValueError:
        return None
    return _ms(moment, CHINA_TIME, whole_seconds=False)


def http_date_s(value: str) -> float | None:
    """Epoch seconds of an HTTP date (RFC 9110: IMF-fixdate and its obsolete forms); None
    when unreadable or without a zone."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": no zone information (RFC 5322)
        return None
    return when.timestamp()


def api_time(value: Any) -> dt.datetime | None:
    """An API's timestamp (GitHub's ``created_at``: RFC 3339, ``Z`` for UTC) as an aware
    datetime, UTC when it names no zone; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=_UTC)


def _fixed_zone(spelled: str) -> dt.timezone:
    """The zone of "Z", "+0800", "+08:00" or "-05"; ValueError past ±24 hours."""
    if spelled in ("Z", "z"):
        return _UTC
    digits = spelled[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return dt.timezone(dt.timedelta(minutes=minutes if spelled[0] == "+" else -minutes))


@lru_cache(maxsize=4096)
def _moment_of(text: str) -> dt.datetime | None:
    if text[0] in "+-":
        return None  # a signed (expanded ISO 8601) year: no news item's
    if text.isdigit():
        # Only YYYYMMDD. Other digit runs ("130376", a guid or an id) are no dates;
        # dateutil would read them as day-month-year.
        return _compact_date(text) if len(text) == 8 else None
    for name, offset in _ZONE_WORDS.items():
        if text.upper().endswith(" " + name):
            text = text[: -len(name)] + offset
            break
    if zone := _GMT_OFFSET.search(text):
        sign, hours, minutes = zone.group(1), int(zone.group(2)), int(zone.group(3) or 0)
        if hours > 23 or minutes > 59:
            return None  # no such zone: a typo, like a date out of range
        text = f"{text[:zone.start()]}{sign}{hours:02d}{minutes:02d}{text[zone.end():]}"
    text = _ZONE_COMMENT.sub("", text)
    if _RFC822.match(text):
        # In RFC 822 form: read as such or not at all. dateutil would take the
        # impossible "01 Jan 0000" for 2000-01-01.
        return _rfc822(text)
    return _iso(text) or _complete_dateutil(text)


def _compact_date(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return None


def _moment(text: Any) -> dt.datetime | None:
    """The moment a date string names, zone-less when it names none; None unless it
    names at least year, month and day."""
    if not isinstance(text, str):
        return None
    text = _WHITESPACE.sub(" ", text).strip()
    if not text or len(text) > _MAX_CHARS:
        return None
    return _moment_of(text)


def _iso(text: str) -> dt.datetime | None:
    if not _ISO_START.match(text):
        return None
    candidate = _ISO_ZONE_SUFFIX.sub("+00:00", text)
    candidate = _ISO_SPACE_TIME.sub(r"\1T", candidate)
    if "T" in candidate:  # else the "-01" of a bare date would read as a zone
        candidate = _ISO_ZONE_NO_COLON.sub(r"\1:\2", candidate)
        candidate = _ISO_ZONE_HOURS.sub(r"\1:00", candidate)
    candidate = _ISO_FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), candidate, count=1)
    next_day = False
    if hour_24 := _ISO_HOUR_24.match(candidate):
        # 24:00 is the end of the day, ISO 8601's spelling of the next day's 00:00.
        candidate = hour_24.group(1) + "T00:00" + candidate[hour_24.end():]
        next_day = True
    try:
        moment = dt.datetime.fromisoformat(candidate)
        return moment + dt.timedelta(days=1) if next_day else moment
    except (ValueError, OverflowError):
        return None


def _rfc822(text: str) -> dt.datetime | None:
    match = _RFC822.match(text)
    if not match:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    number = int(year)
    if len(year) == 2:  # RFC 2822 4.3: 00-49 are 2000-2049, 50-99 are 1950-1999
        number += 2000 if number < 50 else 1900
    offset: int | None = 0 if zone is None else _ZONE_SECONDS.get(zone.upper())
    if zone and zone[0] in "+-":
        offset = (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60) * (1 if zone[0] == "+" else -1)
    if offset is None or not -86400 < offset < 86400:
        return _complete_dateutil(text)  # a zone we do not know: dateutil may
    h = int(hour)
    try:
        moment = dt.datetime(number, month, int(day), 0 if h == 24 else h, int(minute), int(second or 0),
                             tzinfo=dt.timezone(dt.timedelta(seconds=offset)) if zone else None)
        return moment + dt.timedelta(days=1) if h == 24 else moment
    except (ValueError, OverflowError):
        return None


def _dateutil_zone(name: str | None, offset: int | None) -> dt.tzinfo | None:
    """The zone dateutil found: by our table, else its offset; None (no zone) for a name
    we do not know. Never the machine's local zone, which dateutil would otherwise use."""
    if name and name.upper() in _ZONE_SECONDS:
        return dt.timezone(dt.timedelta(seconds=_ZONE_SECONDS[name.upper()]))
    if offset is not None and -86400 < offset < 86400:
        return dt.timezone(dt.timedelta(seconds=offset))
    return None


def _complete_dateutil(text: str) -> dt.datetime | None:
    """dateutil's reading of ``text``, or None unless it names year, month and day."""
    # Imported here, not at start-up (issue 16): most dates take the faster paths above.
    from dateutil import parser as dateutil_parser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # UnknownTimezoneWarning
            first, second = (dateutil_parser.parse(text, default=default, tzinfos=_dateutil_zone)
                             for default in _DEFAULTS)
    except (ValueError, TypeError, ArithmeticError, dateutil_parser.ParserError):
        return None
    return first if first.date() == second.date() else None


# --- writing ---------------------------------------------------------------------------


def _utc(epoch_ms: int) -> dt.datetime:
    try:
        return _EPOCH + dt.timedelta(milliseconds=epoch_ms)
    except OverflowError:
        return (dt.datetime.max if epoch_ms > 0 else dt.datetime.min).replace(tzinfo=_UTC)


def china_time(epoch_ms: int) -> dt.datetime:
    """The moment ``epoch_ms`` in China time (folders by month, list dates).

    Total: newsmirror writes only times in the sane range, but an archive begun by an
    older mirror may hold any time on line 1 (JavaScript dates reach year 275760).
    One that no ``datetime`` can hold reads as the first or last moment there is (so do
    the UTC writers below), so that one such file never stops a list, the index, the
    Atom feeds or the site.
    """
    try:
        return _utc(epoch_ms).astimezone(CHINA_TIME)
    except OverflowError:
        return (dt.datetime.max if epoch_ms > 0 else dt.datetime.min).replace(tzinfo=CHINA_TIME)


def utc_stamp(epoch_ms: int) -> str:
    """RFC 3339 UTC, whole seconds: ``2023-03-01T18:39:03Z``."""
    return _utc(epoch_ms - epoch_ms % 1000).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_utc_stamp(text: str) -> int:
    """The epoch ms of a :func:`utc_stamp` string; ValueError for anything else."""
    return int((dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_UTC)
                - _EPOCH).total_seconds()) * 1000


def utc_minutes(epoch_ms: int) -> str:
    """For people: ``2023-03-01 18:39 UTC``."""
    return _utc(epoch_ms).replace(tzinfo=None).isoformat(" ", "minutes") + " UTC"


def utc_day(epoch_ms: int) -> str:
    """For people: ``2023-03-01`` (UTC)."""
    return _utc(epoch_ms).date().isoformat()
