"""newsmirror.dates: reading feed and page dates, the sane range, and writing dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsmirror.dates import (
    CHINA_TIME,
    EARLIEST_MS,
    LATEST_MS,
    api_time,
    china_time,
    feed_date_ms,
    http_date_s,
    in_range,
    page_date_ms,
    parse_utc_stamp,
    utc_day,
    utc_minutes,
    utc_stamp,
)
from newsmirror.models import ArchivedEntry
from newsmirror.publish.lists import render_list


def ms(*fields: int, zone=UTC) -> int:
    return int(datetime(*fields, tzinfo=zone).timestamp() * 1000)


MS = ms(2023, 3, 1, 18, 39, 3)  # the FORMAT.md example's time

# The spellings of one moment that feeds use, all read the same.
FEED_SPELLINGS = [
    "Wed, 01 Mar 2023 18:39:03 GMT",
    "Wed, 01 Mar 2023 18:39:03 +0000",
    "Wed, 1 Mar 2023 18:39:03 UT",
    "Thu, 02 Mar 2023 02:39:03 +0800",
    "Wed, 01 Mar 2023 13:39:03 EST",
    "Wed, 01 Mar 23 13:39:03 EST",
    "01 Mar 2023 18:39:03 Z",
    "Wednesday, 01 March 2023 18:39:03 GMT",
    "Thu, 02 Mar 2023 02:39:03 China Standard Time",
    "2023-03-01T18:39:03Z",
    "2023-03-01T18:39:03.000Z",
    "2023-03-01T18:39:03.999999999Z",  # feed dates are whole seconds
    "2023-03-02T02:39:03+08:00",
    "2023-03-02T02:39:03+0800",
    "2023-03-02T02:39:03+08",
    "2023-03-01 18:39:03 UTC",
    "2023-03-01 18:39:03",  # no zone in a feed: UTC, as every feed parser reads it
    "  2023-03-01T18:39:03Z\n",
    "Wed Mar  1 18:39:03 UTC 2023",
    *[  # GMT+8 is UTC+8, as people and JavaScript write it, not the POSIX TZ UTC-8
        "Thu, 02 Mar 2023 02:39:03 GMT+8",
        "Thu, 02 Mar 2023 02:39:03 UTC+8",
        "Thu, 02 Mar 2023 02:39:03 GMT+0800",
        "Thu, 02 Mar 2023 02:39:03 GMT+08:00",
        "Wed, 01 Mar 2023 13:39:03 UTC-5",
        "Wed, 01 Mar 2023 13:39:03 GMT-05:00",
        "Thu, 02 Mar 2023 00:09:03 GMT+5:30",
        "Wed, 01 Mar 2023 18:39:03 GMT+0",
        "Thu Mar 02 2023 02:39:03 GMT+0800 (China Standard Time)",  # JavaScript's Date
        "Thu Mar 02 2023 02:39:03 GMT+0800 (中国标准时间)",
        "Thu, 02 Mar 2023 02:39:03 +0800 (CST)",  # RFC 2822's comment only names the zone
        "2023-03-02 02:39:03 GMT+8",
        "2023-03-02T02:39:03 UTC+08:00",
        "2023-03-02T02:39:03UTC+8",
    ],
]
GMT_SPELLINGS = [text for text in FEED_SPELLINGS if "GMT+" in text or "GMT-" in text
                 or "UTC+" in text or "UTC-" in text or "(" in text]


@pytest.mark.parametrize("text", FEED_SPELLINGS)
def test_feed_dates_in_every_common_spelling(text: str) -> None:
    assert feed_date_ms(text) == MS


@pytest.mark.parametrize("text, expected", [
    ("2023-03-01", ms(2023, 3, 1)),
    ("20230301", ms(2023, 3, 1)),
    ("2023-03-01T24:00:00Z", ms(2023, 3, 2)),  # ISO 8601's end of the day
    ("Wed, 01 Mar 2023 24:00:00 GMT", ms(2023, 3, 2)),
    ("1999-12-31T23:59:59-05:00", ms(2000, 1, 1, 4, 59, 59)),
])
def test_feed_dates_other_forms(text: str, expected: int) -> None:
    assert feed_date_ms(text) == expected


@pytest.mark.parametrize("text", [
    None, 17, "", "   ", "not a date", "10:30", "Tuesday", "March", "March 5", "2 hours ago",
    "昨天", "2023", "May 2023",
    # digits that are ids, not dates (dateutil reads 130376 as 13 March 1976)
    "130376", "1700000000", "42",
    # no such day
    "2023-02-29T00:00:00Z", "Wed, 31 Feb 2023 10:00:00 GMT", "2023-13-01",
    "x" * 300,
])
def test_feed_dates_never_invented(text) -> None:
    assert feed_date_ms(text) is None


@pytest.mark.parametrize("text", [
    "Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z", "-2023-01-01T00:00:00Z", "+12023-01-01T00:00:00Z",
    "Mon, 01 Jan 1800 00:00:00 GMT", "2100-01-01T00:00:00Z", "2999-06-01T00:00:00Z",
    "99999-01-01", "Fri, 31 Dec 9999 23:59:59 -1200",
])
def test_out_of_range_dates_are_absent_and_never_raise(text: str) -> None:
    assert feed_date_ms(text) is None
    assert page_date_ms(text) is None


def test_the_range_bounds() -> None:
    assert EARLIEST_MS == ms(1900, 1, 1) and LATEST_MS == ms(2100, 1, 1)
    assert in_range(EARLIEST_MS) == EARLIEST_MS and in_range(EARLIEST_MS - 1) is None
    assert in_range(LATEST_MS - 1) == LATEST_MS - 1 and in_range(LATEST_MS) is None
    assert in_range(None) is None and in_range(0) == 0
    assert feed_date_ms("1900-01-01T00:00:00Z") == EARLIEST_MS
    assert feed_date_ms("2099-12-31T23:59:59Z") == LATEST_MS - 1000
    assert feed_date_ms("1899-12-31T23:59:59Z") is None


@pytest.mark.parametrize("value, expected", [
    ("1700000000", 1_700_000_000_000),
    ("1700000000123", 1_700_000_000_123),
    (1700000000, 1_700_000_000_000),
    (1700000000.5, 1_700_000_000_000),
    ("2024-01-02T03:04:05Z", 1_704_164_645_000),
    ("2024-01-02T11:04:05+08:00", 1_704_164_645_000),
    ("2024-01-02T11:04:05.250+08:00", 1_704_164_645_250),
    # no zone on a page: China time, and the time after a space is kept
    ("2024-01-02 11:04:05", 1_704_164_645_000),
    ("2024-01-02T11:04:05", 1_704_164_645_000),
    ("2023-05-01 12:34", ms(2023, 5, 1, 12, 34, zone=CHINA_TIME)),
    ("发布于 2024-01-02 11:04", 1_704_164_640_000),
    ("2024/01/02 11：04", 1_704_164_640_000),
    ("2024年1月2日", 1_704_124_800_000),
    ("2024年1月2日 11:04", 1_704_164_640_000),
    ("2024-01-02", 1_704_124_800_000),
    ("更新于2024-01-02 03:04Z", 1_704_164_640_000),
    ("Tue, 02 Jan 2024 03:04:05 GMT", 1_704_164_645_000),
    ("昨天", None), ("", None), (None, None), (True, None), ({"x": 1}, None), (float("nan"), None),
    ("2024年2月30日", None), (253402300799000, None), ("253402300799000", None),
    (0, None), (-1, None), (-1700000000, None), ("0", None),
])
def test_page_dates(value, expected) -> None:
    assert page_date_ms(value) == expected


@pytest.mark.parametrize("text", GMT_SPELLINGS)
def test_page_dates_read_gmt_plus_8_as_china_time(text: str) -> None:
    assert page_date_ms(text) == MS


@pytest.mark.parametrize("text", ["Wed, 01 Mar 2023 18:39:03 GMT+25", "2023-03-01 18:39:03 UTC+08:75"])
def test_no_such_gmt_offset_is_no_date(text: str) -> None:
    assert feed_date_ms(text) is None


def test_http_dates() -> None:
    assert http_date_s("Wed, 01 Mar 2023 18:39:03 GMT") == MS / 1000
    assert http_date_s("Wed, 01 Mar 2023 18:39:03 -0000") is None  # no zone information
    assert http_date_s("soon") is None


def test_china_time_is_utc_plus_8_for_folders_and_lists() -> None:
    assert CHINA_TIME.utcoffset(None) == timedelta(hours=8)
    when = china_time(ms(2023, 3, 31, 16, 0))
    assert (when.year, when.month, when.day, when.hour) == (2023, 4, 1, 0)
    assert when.utcoffset() == timedelta(hours=8)
    assert china_time(EARLIEST_MS).year == 1900 and china_time(LATEST_MS - 1).year == 2100


def test_utc_texts() -> None:
    assert utc_stamp(MS + 999) == "2023-03-01T18:39:03Z"
    assert parse_utc_stamp("2023-03-01T18:39:03Z") == MS
    assert utc_minutes(MS) == "2023-03-01 18:39 UTC"
    assert utc_day(MS) == "2023-03-01"
    with pytest.raises(ValueError):
        parse_utc_stamp("2023-03-01 18:39:03")


def test_api_times() -> None:
    assert api_time("2023-03-01T18:39:03Z") == datetime(2023, 3, 1, 18, 39, 3, tzinfo=UTC)
    assert api_time("2023-03-02T02:39:03+08:00") == datetime(2023, 3, 1, 18, 39, 3, tzinfo=UTC)
    assert api_time("2023-03-01T18:39:03").tzinfo is not None  # no zone: UTC
    assert api_time("yesterday") is None and api_time(None) is None and api_time(17) is None


@pytest.mark.parametrize("stamp", [253402300799000, 10**15, 10**19, -(10**19), -62135596800001])
def test_writers_are_total_for_any_time_an_older_archive_holds(stamp: int) -> None:
    # Lines 1 written by older mirrors: JavaScript's Date reaches year 275760.
    when = china_time(stamp)
    assert when.utcoffset() == timedelta(hours=8)
    assert when.year == (9999 if stamp > 0 else 1)
    assert utc_stamp(stamp).startswith("9999-12-31T" if stamp > 0 else "0001-01-01T")
    assert utc_minutes(stamp) and utc_day(stamp)


def test_a_list_with_a_year_9999_article_still_renders() -> None:
    entries = [ArchivedEntry("voa", "0123456789ab", "articles/voa/2023/03/a-0123456789ab.md",
                             253402300799000, "远未来", "https://example.org/a", "a"),
               ArchivedEntry("voa", "0123456789ac", "articles/voa/2023/03/b-0123456789ac.md",
                             MS, "正常", "https://example.org/b", "b")]
    text = render_list("美国之音", entries).decode()
    assert "12-31 [远未来]" in text and "3-2 [正常]" in text
