"""Source health transitions, backoff and the health file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from newsmirror.fetch.client import FetchError
from newsmirror.sources.health import (
    HOUR_MS,
    SourceHealth,
    after_failure,
    after_success,
    backoff_ms,
    describe,
    dump_health,
    read_health,
    should_attempt,
)

NOW = 1_717_200_000_000  # 2024-06-01 00:00 UTC
DAY_MS = 24 * HOUR_MS


def fail_times(h: SourceHealth, count: int, err: FetchError | str = "HTTP 500") -> SourceHealth:
    for _ in range(count):
        h = after_failure(h, NOW, err)
    return h


def test_new_source_is_attempted() -> None:
    h = SourceHealth()
    assert should_attempt(h, NOW)
    assert describe(h, NOW) == "new (never fetched)"


def test_backoff_sequence_is_capped_at_a_day() -> None:
    assert [backoff_ms(n) // HOUR_MS for n in range(0, 9)] == [0, 1, 2, 4, 8, 16, 24, 24, 24]
    h = SourceHealth()
    delays = []
    for _ in range(8):
        h = after_failure(h, NOW, "HTTP 500 Internal Server Error")
        delays.append((h.next_attempt_ms - NOW) // HOUR_MS)
    assert delays == [1, 2, 4, 8, 16, 24, 24, 24]
    assert h.failures == 8 and not h.dead


def test_backoff_is_obeyed_then_lifts() -> None:
    h = fail_times(SourceHealth(), 3)  # 4 h
    assert not should_attempt(h, NOW + 4 * HOUR_MS - 1)
    assert should_attempt(h, NOW + 4 * HOUR_MS)


def test_failure_keeps_validators_and_records_reason() -> None:
    h = SourceHealth(etag='"e"', last_modified="Sat, 01 Jun 2024 00:00:00 GMT", articles=7)
    h = after_failure(h, NOW, FetchError("timed out after 20 s"))
    assert h.etag == '"e"' and h.last_modified == "Sat, 01 Jun 2024 00:00:00 GMT"
    assert h.articles == 7
    assert h.last_error == "timed out after 20 s"
    assert h.last_attempt_ms == NOW and h.failures == 1


def test_success_clears_failures_and_stores_validators() -> None:
    h = fail_times(SourceHealth(etag='"old"'), 4)
    h = after_success(h, NOW + DAY_MS, etag='"new"', last_modified=None)
    assert h == SourceHealth(
        etag='"new"', last_success_ms=NOW + DAY_MS, last_attempt_ms=NOW + DAY_MS,
        first_ok_ms=NOW + DAY_MS,
    )
    assert should_attempt(h, NOW + DAY_MS) and describe(h, NOW + DAY_MS) == "ok"


def test_long_retry_after_wins_over_backoff() -> None:
    h = after_failure(SourceHealth(), NOW, "HTTP 429", retry_after_s=3 * 3600)
    assert h.next_attempt_ms == NOW + 3 * HOUR_MS
    # A FetchError carries its own retry_after_s.
    err = FetchError("HTTP 429 Too Many Requests, retry after 7200 s", status=429, retry_after_s=7200)
    assert after_failure(SourceHealth(), NOW, err).next_attempt_ms == NOW + 2 * HOUR_MS


def test_short_retry_after_does_not_shorten_backoff() -> None:
    h = after_failure(SourceHealth(), NOW, "HTTP 503", retry_after_s=60)
    assert h.next_attempt_ms == NOW + HOUR_MS


def test_absurd_retry_after_cannot_retire_a_source() -> None:
    h = after_failure(SourceHealth(), NOW, "HTTP 503", retry_after_s=10 * 365 * 86400)
    assert h.next_attempt_ms == NOW + 7 * DAY_MS


def test_gone_source_is_dead_but_retried_daily_and_revives() -> None:
    err = FetchError("HTTP 410 Gone", status=410, gone=True)
    h = after_failure(SourceHealth(etag='"e"'), NOW, err)
    assert h.dead and h.failures == 1
    assert h.next_attempt_ms == NOW + DAY_MS
    assert describe(h, NOW).startswith("dead (410 Gone)")
    assert not should_attempt(h, NOW + DAY_MS - 1) and should_attempt(h, NOW + DAY_MS)
    # Still dead after another kind of failure, and still retried daily.
    h = after_failure(h, NOW + DAY_MS, "HTTP 500 Internal Server Error")
    assert h.dead and h.next_attempt_ms == NOW + 2 * DAY_MS
    h = after_success(h, NOW + 2 * DAY_MS, etag=None, last_modified=None)
    assert not h.dead and h.failures == 0 and h.next_attempt_ms is None


def test_gone_flag_as_keyword() -> None:
    h = after_failure(SourceHealth(), NOW, "HTTP 410 Gone", gone=True)
    assert h.dead and h.next_attempt_ms == NOW + DAY_MS


def test_next_attempt_far_in_the_future_is_not_obeyed() -> None:
    # Written by a machine whose clock was years ahead.
    h = SourceHealth(failures=1, next_attempt_ms=NOW + 5 * 365 * DAY_MS)
    assert should_attempt(h, NOW)


def test_describe_backing_off_and_due() -> None:
    h = fail_times(SourceHealth(last_success_ms=NOW - DAY_MS), 2, FetchError("HTTP 500 Internal Server Error"))
    assert describe(h, NOW) == (
        "backing off until 2024-06-01 02:00 UTC (2 failures: HTTP 500 Internal Server Error)"
    )
    assert describe(h, NOW + 3 * HOUR_MS) == "failing (2 failures: HTTP 500 Internal Server Error); due now"


# --- the health file -----------------------------------------------------------------


def sample() -> dict[str, SourceHealth]:
    return {
        "voa": after_success(SourceHealth(articles=1200), NOW, etag='W/"abc"', last_modified=None),
        "bbc": fail_times(SourceHealth(last_modified="Sat, 01 Jun 2024 00:00:00 GMT"), 2, "无法连接"),
        "rfi": after_failure(SourceHealth(), NOW, "HTTP 410 Gone", gone=True),
    }


def test_round_trip(tmp_path: Path) -> None:
    states = sample()
    path = tmp_path / "health.json"
    path.write_bytes(dump_health(states))
    read = read_health(path)
    assert read.states == states and read.problems == []


def test_dump_is_deterministic_readable_text() -> None:
    states = sample()
    data = dump_health(states)
    assert data == dump_health(dict(reversed(list(states.items()))))
    text = data.decode("utf-8")
    assert text.endswith("}\n") and "无法连接" in text
    assert text.index('"bbc"') < text.index('"rfi"') < text.index('"voa"')
    assert text.startswith('{\n "sources": {\n  "bbc": {\n   "alerted": "ok",\n   "articles": 0,')
    assert json.loads(text)["version"] == 2
    assert dump_health({}) == b'{\n "sources": {},\n "version": 2\n}\n'
    assert dump_health({}, written_ms=5) == b'{\n "sources": {},\n "version": 2,\n "written_ms": 5\n}\n'


def test_missing_file_is_empty(tmp_path: Path) -> None:
    read = read_health(tmp_path / "nope.json")
    assert read.states == {} and read.problems == [] and not read.exists


def test_unknown_fields_ignored_missing_fields_default(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    path.write_text(
        json.dumps({"version": 1, "sources": {"voa": {"failures": 2, "future_field": [1]}}}),
        encoding="utf-8",
    )
    read = read_health(path)
    assert read.states == {"voa": SourceHealth(failures=2)} and read.problems == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON (Expecting value at line 1 column 1)"),
        (b'{"version": 1, "sources": {', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[]", "expected a JSON object at the top, found a list"),
        (b'{"version": 1, "sources": []}', "'sources' must be an object, found a list"),
        (b'{"version": 1, "sources": {"voa": 3}}', "source 'voa': expected an object, found a number"),
        (
            b'{"version": 1, "sources": {"voa": {"failures": "3"}}}',
            "source 'voa': field 'failures' must be a whole number ≥ 0, found '3'",
        ),
        (
            b'{"version": 1, "sources": {"voa": {"failures": true}}}',
            "source 'voa': field 'failures' must be a whole number ≥ 0, found True",
        ),
        (
            b'{"version": 1, "sources": {"voa": {"dead": 1}}}',
            "source 'voa': field 'dead' must be true or false, found 1",
        ),
        (
            b'{"version": 1, "sources": {"voa": {"next_attempt_ms": 1.5}}}',
            "source 'voa': field 'next_attempt_ms' must be a time in milliseconds or null, found 1.5",
        ),
        (
            b'{"version": 1, "sources": {"voa": {"etag": 5}}}',
            "source 'voa': field 'etag' must be text or null, found 5",
        ),
    ],
)
def test_corrupt_file_names_the_file_and_the_problem(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "health.json"
    path.write_bytes(content)
    problems = read_health(path).problems
    assert problems and problems[0].startswith(f"{path}: ")
    assert message in problems[0]


def test_a_file_without_a_version_is_read_as_version_1(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    path.write_text(json.dumps({"sources": {"voa": {"failures": 2, "last_success_ms": NOW}}}))
    read = read_health(path)
    assert read.problems == [] and read.states == {"voa": SourceHealth(failures=2, last_success_ms=NOW)}



# --- states ------------------------------------------------------------------------

from newsmirror.sources.health import (  # noqa: E402
    after_new_articles,
    alert_state,
    durable,
    is_stale,
    load_states,
    migrate,
    source_state,
)


def answering(**fields) -> SourceHealth:
    return after_success(SourceHealth(**fields), NOW, etag=None, last_modified=None)


def test_states_of_a_source_over_its_life() -> None:
    assert source_state(SourceHealth(), NOW) == "new"
    h = after_new_articles(answering(), NOW, [NOW - 2 * HOUR_MS, NOW - HOUR_MS, NOW])
    assert source_state(h, NOW) == "ok" and h.interval_ms == HOUR_MS and h.last_new_ms == NOW
    h = after_failure(h, NOW + HOUR_MS, "HTTP 500")
    assert source_state(h, NOW + HOUR_MS) == "backing off"
    assert source_state(h, NOW + 2 * HOUR_MS) == "failing"  # due again
    assert alert_state(h, NOW + 2 * HOUR_MS) == "ok"  # one failure is not yet failing
    for k in range(2, 4):
        h = after_failure(h, NOW + k * HOUR_MS, "HTTP 500")
    assert h.failures == 3 and h.failing_since_ms == NOW + HOUR_MS
    assert alert_state(h, NOW + 3 * HOUR_MS) == "failing"
    assert alert_state(h, NOW + 3 * HOUR_MS, after_failures=4) == "ok"
    # Failing without a break for seven days: dead.
    later = NOW + HOUR_MS + 7 * DAY_MS
    h = after_failure(h, later, "HTTP 500")
    assert source_state(h, later) == "dead" and alert_state(h, later) == "dead"
    assert describe(h, later) == ("dead (failing since 2024-06-01 01:00 UTC), retried daily; "
                                  "next check 2024-06-08 09:00 UTC")
    assert source_state(h, later - 1) == "backing off"  # not yet seven days
    h = after_success(h, later + DAY_MS, etag=None, last_modified=None)
    assert h.failing_since_ms is None and h.failures == 0
    # Back, but with nothing new in eight days: stale, until a new article comes.
    assert source_state(h, later + DAY_MS) == "stale"
    h = after_new_articles(h, later + DAY_MS, [later])
    assert source_state(h, later + DAY_MS) == "ok"


def test_failing_stays_failing_until_it_answers_even_when_the_count_was_lost() -> None:
    # After a cache miss the count restarts from the committed snapshot; the state does not.
    h = after_failure(SourceHealth(state="failing"), NOW, "HTTP 500")
    assert h.failures == 1 and alert_state(h, NOW) == "failing"
    assert alert_state(after_success(h, NOW, etag=None, last_modified=None), NOW) == "ok"


def test_gone_is_dead_at_once() -> None:
    h = after_failure(answering(), NOW, FetchError("HTTP 410 Gone", status=410, gone=True))
    assert source_state(h, NOW) == "dead" and alert_state(h, NOW) == "dead"


def test_stale_needs_both_three_days_and_ten_usual_intervals() -> None:
    daily = after_new_articles(answering(), NOW, [NOW - k * DAY_MS for k in range(5)])
    assert daily.interval_ms == DAY_MS
    assert not is_stale(daily, NOW + 9 * DAY_MS)  # a weekly-ish outlet is not stale at 9 days
    assert is_stale(daily, NOW + 10 * DAY_MS + 1)
    hourly = after_new_articles(answering(), NOW, [NOW - k * HOUR_MS for k in range(5)])
    assert not is_stale(hourly, NOW + 3 * DAY_MS)
    assert source_state(hourly, NOW + 3 * DAY_MS + 1) == "stale"
    # A feed that answers but never gave an article counts from when it first answered.
    empty = answering()
    assert source_state(empty, NOW + 3 * DAY_MS) == "ok"
    assert source_state(empty, NOW + 3 * DAY_MS + 1) == "stale"
    # A failing source is failing, not stale; for alerts one failure does not end staleness.
    glitch = after_failure(replace(hourly, state="stale"), NOW + 5 * DAY_MS, "x")
    assert source_state(glitch, NOW + 5 * DAY_MS) == "backing off"
    assert alert_state(glitch, NOW + 5 * DAY_MS) == "stale"
    assert alert_state(after_failure(after_failure(glitch, NOW, "x"), NOW, "x"), NOW) == "failing"


def test_usual_interval_is_a_median_and_ignores_future_dates() -> None:
    times = [NOW - 4 * HOUR_MS, NOW - 3 * HOUR_MS, NOW - 2 * HOUR_MS, NOW - HOUR_MS,
             NOW + 9000 * DAY_MS]  # one item dated in year 9999-ish
    h = after_new_articles(SourceHealth(), NOW, times)
    assert h.interval_ms == HOUR_MS
    assert after_new_articles(h, NOW, [NOW]).interval_ms == HOUR_MS  # one time: kept


def test_migrate_fills_what_version_1_lacked(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    path.write_text(json.dumps({"version": 1, "sources": {"voa": {
        "last_success_ms": NOW, "articles": 5, "etag": '"e"'}}}), encoding="utf-8")
    read = read_health(path)
    assert read.problems == [] and read.written_ms == 0
    h = migrate(read.states["voa"], NOW - DAY_MS, NOW)
    assert h.first_ok_ms == NOW and h.last_new_ms == NOW - DAY_MS and h.etag == '"e"'
    assert migrate(SourceHealth(last_success_ms=NOW), NOW + DAY_MS, NOW).last_new_ms == NOW
    # A state of this version that has seen no new article yet is left as it is: it counts
    # from its first answer, not from the newest article's own date.
    current = SourceHealth(first_ok_ms=NOW, last_success_ms=NOW)
    assert migrate(current, NOW - 10 * DAY_MS, NOW).last_new_ms is None


def test_durable_ignores_what_moves_every_hour() -> None:
    h = answering(etag='"a"')
    assert durable(h) == durable(replace(h, etag='"b"', last_success_ms=NOW + 1, last_attempt_ms=NOW + 1,
                                         articles=9, last_new_ms=NOW, interval_ms=5))
    failed = after_failure(h, NOW, "x")
    assert durable(failed) == durable(h)  # one failure: not yet worth a commit
    assert durable(replace(failed, state="failing")) != durable(h)
    assert durable(after_failure(h, NOW, FetchError("HTTP 410 Gone", gone=True))) != durable(h)
    assert durable(replace(h, alerted="stale")) != durable(h)


def test_load_states_takes_the_copy_a_later_run_wrote(tmp_path: Path) -> None:
    committed, cached = tmp_path / "health.json", tmp_path / "cache.json"
    assert load_states(committed, cached) == ({}, [])
    committed.write_bytes(dump_health({"s": SourceHealth(failures=1)}, written_ms=10))
    cached.write_bytes(dump_health({"s": SourceHealth(failures=2)}, written_ms=20))
    assert load_states(committed, cached)[0]["s"].failures == 2
    cached.write_bytes(dump_health({"s": SourceHealth(failures=2)}, written_ms=10))
    assert load_states(committed, cached)[0]["s"].failures == 2  # a tie: the cache
    committed.write_bytes(dump_health({"s": SourceHealth(failures=5)}, written_ms=30))
    assert load_states(committed, cached)[0]["s"].failures == 5
    cached.write_text("garbage", encoding="utf-8")
    states, problems = load_states(committed, cached)
    assert states["s"].failures == 5
    assert problems == [f"{cached}: not valid JSON (Expecting value at line 1 column 1); "
                        "the committed copy is used"]
    committed.write_text('{"version": 1, "sources": {"a": 1, "b": {"failures": -1}, "c": {}}}')
    states, problems = load_states(committed, cached)
    assert states == {"b": SourceHealth(), "c": SourceHealth()}
    assert len(problems) == 2 and "(and 1 more)" in problems[1]


def test_a_newer_version_is_read_as_far_as_it_fits(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    path.write_text(json.dumps({"version": 7, "sources": {"s": {"failures": 2, "new": 1}}}))
    read = read_health(path)
    assert read.states == {"s": SourceHealth(failures=2)}
    assert "unsupported health file version 7 (expected 2); reading what fits" in read.problems[0]
