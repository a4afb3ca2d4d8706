"""Per-source health: conditional-GET validators, consecutive failures and backoff.

Pure functions over a small frozen dataclass; `load_health`/`dump_health` are
the only I/O.  A failing source backs off 1, 2, 4, 8, 16 then 24 hours, and is
never given up on: even a source that answered 410 Gone is retried once a day,
so a feed that comes back is picked up again without anyone noticing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newsmirror.fetch.client import FetchError

HOUR_MS = 3_600_000
MAX_BACKOFF_MS = 24 * HOUR_MS
# A server's Retry-After beyond this is treated as this: it must not retire a source.
MAX_RETRY_AFTER_MS = 7 * 24 * HOUR_MS
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SourceHealth:
    """What we remember about one source between runs (times in ms since the epoch, UTC)."""

    etag: str | None = None
    last_modified: str | None = None
    last_success_ms: int | None = None
    last_attempt_ms: int | None = None
    last_error: str | None = None
    failures: int = 0
    next_attempt_ms: int | None = None
    dead: bool = False
    articles: int = 0


def backoff_ms(failures: int) -> int:
    """Delay after `failures` consecutive failures: 1, 2, 4, 8, 16 h, then 24 h."""
    if failures <= 0:
        return 0
    return min(HOUR_MS << min(failures - 1, 5), MAX_BACKOFF_MS)


def should_attempt(h: SourceHealth, now_ms: int) -> bool:
    """Whether the source is due.

    A next attempt further ahead than any delay we could have set (a clock
    that was wrong when it was written) is ignored rather than obeyed.
    """
    if h.next_attempt_ms is None or now_ms >= h.next_attempt_ms:
        return True
    return h.next_attempt_ms - now_ms > MAX_RETRY_AFTER_MS


def after_success(
    h: SourceHealth, now_ms: int, *, etag: str | None, last_modified: str | None
) -> SourceHealth:
    """The source answered (200 or 304): store its validators and clear the failure state."""
    return replace(
        h,
        etag=etag,
        last_modified=last_modified,
        last_success_ms=now_ms,
        last_attempt_ms=now_ms,
        last_error=None,
        failures=0,
        next_attempt_ms=None,
        dead=False,
    )


def after_failure(
    h: SourceHealth,
    now_ms: int,
    err: FetchError | str,
    *,
    retry_after_s: float | None = None,
    gone: bool = False,
) -> SourceHealth:
    """Record a failure and schedule the next attempt.

    The delay is the exponential backoff, 24 h for a dead (410 Gone) source,
    or the server's Retry-After when that is longer (up to a week).  A
    FetchError's own `retry_after_s` and `gone` count when not given here.
    """
    if isinstance(err, FetchError):
        reason = err.reason
        if retry_after_s is None:
            retry_after_s = err.retry_after_s
        gone = gone or err.gone
    else:
        reason = err
    failures = h.failures + 1
    dead = h.dead or gone
    delay = MAX_BACKOFF_MS if dead else backoff_ms(failures)
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(round(retry_after_s * 1000), MAX_RETRY_AFTER_MS))
    return replace(
        h,
        last_attempt_ms=now_ms,
        last_error=reason or "unknown error",
        failures=failures,
        next_attempt_ms=now_ms + delay,
        dead=dead,
    )


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def describe(h: SourceHealth, now_ms: int) -> str:
    """One line for people: "ok", "backing off until …", "dead (410 Gone) …"."""
    due = should_attempt(h, now_ms)
    if h.dead:
        when = "due now" if due else f"next check {_when(h.next_attempt_ms or now_ms)}"
        return f"dead (410 Gone), retried daily; {when}"
    if h.failures:
        plural = "failure" if h.failures == 1 else "failures"
        cause = f"{h.failures} {plural}"
        if h.last_error:
            cause += f": {h.last_error}"
        if due:
            return f"failing ({cause}); due now"
        return f"backing off until {_when(h.next_attempt_ms or now_ms)} ({cause})"
    if h.last_success_ms is None:
        return "new (never fetched)"
    return "ok"


# --- persistence -----------------------------------------------------------------

_STR_FIELDS = ("etag", "last_modified", "last_error")
_TIME_FIELDS = ("last_success_ms", "last_attempt_ms", "next_attempt_ms")
_COUNT_FIELDS = ("failures", "articles")


def dump_health(states: dict[str, SourceHealth]) -> bytes:
    """Deterministic JSON: the same states always give the same bytes."""
    document = {
        "version": FORMAT_VERSION,
        "sources": {slug: asdict(states[slug]) for slug in sorted(states)},
    }
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def load_health(path: Path) -> dict[str, SourceHealth]:
    """Read the health file; {} when it does not exist, ValueError when it is corrupt.

    Unknown fields are ignored and missing ones take their defaults, so the file
    survives both older and newer versions of the program.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    try:
        return _parse(document)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _parse(document: Any) -> dict[str, SourceHealth]:
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object at the top, found {_kind(document)}")
    version = document.get("version")
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported health file version {version!r} (expected {FORMAT_VERSION})")
    sources = document.get("sources")
    if not isinstance(sources, dict):
        raise ValueError(f"'sources' must be an object, found {_kind(sources)}")
    return {slug: _parse_source(slug, entry) for slug, entry in sources.items()}


def _parse_source(slug: str, entry: Any) -> SourceHealth:
    if not slug:
        raise ValueError("a source has an empty name")
    if not isinstance(entry, dict):
        raise ValueError(f"source {slug!r}: expected an object, found {_kind(entry)}")
    known = {f.name for f in fields(SourceHealth)}
    values = {name: value for name, value in entry.items() if name in known}
    for name, value in values.items():
        problem = _check(name, value)
        if problem:
            raise ValueError(f"source {slug!r}: field {name!r} {problem}, found {value!r}")
    return SourceHealth(**values)


def _check(name: str, value: Any) -> str | None:
    """Why `value` does not fit field `name`, or None when it does."""
    if name in _STR_FIELDS:
        return None if value is None or isinstance(value, str) else "must be text or null"
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if name in _TIME_FIELDS:
        ok = value is None or (is_int and value >= 0)
        return None if ok else "must be a time in milliseconds or null"
    if name in _COUNT_FIELDS:
        return None if is_int and value >= 0 else "must be a whole number ≥ 0"
    if name == "dead":
        return None if isinstance(value, bool) else "must be true or false"
    return None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
