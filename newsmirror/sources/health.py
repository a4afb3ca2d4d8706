"""Per-source health: conditional-GET validators, consecutive failures, backoff, and the
state a source is in (ok, failing, backing off, stale, dead).

Pure functions over a small frozen dataclass; `read_health`/`dump_health` and
`load_states` are the only I/O. A file that is not all right never stops a run: what fits
is read, the rest starts fresh, and `load_states(..., keep_bad=True)` (a run) keeps a copy
of the file as `health.json.bad` and says so in one warning line.  A failing source backs off 1, 2, 4, 8, 16 then 24
hours, and is never given up on: even a source that answered 410 Gone is retried once a
day, so a feed that comes back is picked up again without anyone noticing.

Where the state lives.  A run on an ephemeral runner keeps only the git checkout and the
folder the workflow caches (`.newsmirror/cache/`), so the state is kept twice, in the
same format:

- `.newsmirror/cache/health.json` has everything and is written by every run: the
  validators (ETag, Last-Modified), the failure count, the next attempt, the last error;
- `.newsmirror/health.json` (committed) is a snapshot of the same, rewritten only when a
  run commits anyway (new articles) or when something durable changed (see `durable`):
  a source started or stopped failing, became stale or dead, an alert was sent.  So an
  idle hour writes nothing there and commits nothing.

`load_states` takes whichever of the two a later run wrote (their `written_ms`): the
cache normally, the committed snapshot after a cache miss or when the runner that
committed it could not save its cache.
"""

from __future__ import annotations

import itertools
import json
import statistics
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from newsmirror.archive.files import keep_bad_copy
from newsmirror.dates import utc_minutes
from newsmirror.fetch.client import FetchError
from newsmirror.archive.paths import CACHE_DIR, HEALTH_FILE

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MAX_BACKOFF_MS = 24 * HOUR_MS
# A server's Retry-After beyond this is treated as this: it must not retire a source.
MAX_RETRY_AFTER_MS = 7 * 24 * HOUR_MS
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Version 1 had no state, failing_since_ms, last_new_ms, interval_ms, first_ok_ms or
alerted fields; they take their defaults (and `migrate` fills what it can). A file with
no version is read as version 1."""

DEAD_AFTER_MS = 7 * DAY_MS
"""A source failing without a break for this long is dead (as is one that said 410 Gone)."""
STALE_MIN_MS = 3 * DAY_MS
STALE_INTERVALS = 10
"""Stale: answers, but no new article for longer than both STALE_MIN_MS and
STALE_INTERVALS times its usual interval between articles."""
RECENT_ARTICLES = 21
"""How many of a source's newest articles its usual interval is the median gap of."""

STATES = ("ok", "new", "failing", "backing off", "stale", "dead", "disabled")
ALERT_STATES = ("ok", "failing", "stale", "dead")


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
    """It answered 410 Gone (and has not answered since)."""
    articles: int = 0
    failing_since_ms: int | None = None
    """The first failure of the current run of failures; None while it answers."""
    first_ok_ms: int | None = None
    """When it first answered; where staleness counts from before its first new article."""
    last_new_ms: int | None = None
    """The last run that found a new article in it."""
    interval_ms: int | None = None
    """Its usual interval between articles: the median gap between its newest articles."""
    state: str = "ok"
    """ok, failing, stale or dead, as of the last run (see `alert_state`): what the
    archive README shows and alerts report."""
    alerted: str = "ok"
    """The last state an alert was delivered for."""


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
        failing_since_ms=None,
        first_ok_ms=h.first_ok_ms if h.first_ok_ms is not None else now_ms,
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
        failing_since_ms=h.failing_since_ms if h.failing_since_ms is not None else now_ms,
    )


def after_new_articles(h: SourceHealth, now_ms: int, published_ms: list[int]) -> SourceHealth:
    """A run found new articles: remember when, and the usual interval between the
    source's newest articles (`published_ms`, its newest RECENT_ARTICLES publication
    times, in any order; times in the future count as now)."""
    times = sorted(min(t, now_ms) for t in published_ms)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    interval = int(statistics.median(gaps)) if gaps else h.interval_ms
    return replace(h, last_new_ms=now_ms, interval_ms=interval)


def migrate(h: SourceHealth, newest_ms: int | None, now_ms: int) -> SourceHealth:
    """Fill in what an older health file did not record: when the source first answered
    and, for a source with articles, when it last had a new one (its newest article)."""
    if h.first_ok_ms is None and h.last_success_ms is not None:
        # Only version 1 answered without recording when: a state of this version that has
        # seen no new article yet counts from its first answer (see is_stale), not from
        # the newest article's own date (a re-read after a crash would make it stale).
        h = replace(h, first_ok_ms=h.last_success_ms)
        if h.last_new_ms is None and newest_ms is not None:
            h = replace(h, last_new_ms=min(newest_ms, now_ms))
    return h


def is_dead(h: SourceHealth, now_ms: int) -> bool:
    """410 Gone, or failing without a break for DEAD_AFTER_MS."""
    if h.dead:
        return True
    return h.failures > 0 and h.failing_since_ms is not None \
        and now_ms - h.failing_since_ms >= DEAD_AFTER_MS


def stale_after_ms(h: SourceHealth) -> int:
    """How long without a new article makes this source stale."""
    return max(STALE_MIN_MS, STALE_INTERVALS * (h.interval_ms or 0))


def is_stale(h: SourceHealth, now_ms: int) -> bool:
    """It answers, but has had no new article for longer than `stale_after_ms`
    (counted from when it first answered when it never had one)."""
    if h.failures or h.last_success_ms is None:
        return False
    since = h.last_new_ms if h.last_new_ms is not None else h.first_ok_ms
    return since is not None and now_ms - since > stale_after_ms(h)


def source_state(h: SourceHealth, now_ms: int) -> str:
    """The state of a source right now: dead, backing off (failed and waiting), failing
    (failed and due), stale, new (never fetched) or ok."""
    if is_dead(h, now_ms):
        return "dead"
    if h.failures:
        return "failing" if should_attempt(h, now_ms) else "backing off"
    if h.last_success_ms is None:
        return "new"
    if is_stale(h, now_ms):
        return "stale"
    return "ok"


def alert_state(h: SourceHealth, now_ms: int, after_failures: int = 3) -> str:
    """The state alerts and the archive README report: ok, failing, stale or dead.

    A source is failing from its `after_failures`-th consecutive failure (backing off or
    not) until it answers again; a single failure, which the next hour usually mends,
    is still ok.  Once failing it stays failing until it answers, even when the failure
    count was lost with a cache.
    """
    if is_dead(h, now_ms):
        return "dead"
    if h.failures:
        if h.failures >= after_failures or h.state in ("failing", "dead"):
            return "failing"
        return "stale" if h.state == "stale" else "ok"  # a glitch does not end staleness
    return "stale" if is_stale(h, now_ms) else "ok"


def days_since_new(h: SourceHealth, now_ms: int) -> float | None:
    """Days since the source's last new article (None when it never had one)."""
    if h.last_new_ms is None:
        return None
    return max(0, now_ms - h.last_new_ms) / DAY_MS


def durable(h: SourceHealth) -> tuple:
    """What is worth a commit when it changes: the source's state (ok, failing, stale,
    dead), 410 Gone, the last alert delivered, when it first answered. Validators, attempt
    times, failure counts and errors move every hour and live in the cache (and in the
    committed snapshot as of the last commit); so does a single failure, which the next
    hour usually mends."""
    return (h.state, h.dead, h.alerted, h.first_ok_ms)


def _when(ms: int) -> str:
    return utc_minutes(ms)


def describe(h: SourceHealth, now_ms: int) -> str:
    """One line for people: "ok", "backing off until …", "dead (410 Gone) …"."""
    due = should_attempt(h, now_ms)
    if is_dead(h, now_ms):
        when = "due now" if due else f"next check {_when(h.next_attempt_ms or now_ms)}"
        why = "410 Gone" if h.dead else f"failing since {_when(h.failing_since_ms or now_ms)}"
        return f"dead ({why}), retried daily; {when}"
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
_TIME_FIELDS = ("last_success_ms", "last_attempt_ms", "next_attempt_ms", "failing_since_ms",
                "first_ok_ms", "last_new_ms", "interval_ms")
_COUNT_FIELDS = ("failures", "articles")
_STATE_FIELDS = ("state", "alerted")


def dump_health(states: dict[str, SourceHealth], *, written_ms: int | None = None) -> bytes:
    """Deterministic JSON: the same states always give the same bytes. `written_ms` is
    when the run that wrote it ran (which of two copies is newer)."""
    document: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "sources": {slug: asdict(states[slug]) for slug in sorted(states)},
    }
    if written_ms is not None:
        document["written_ms"] = written_ms
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


@dataclass
class HealthFile:
    """A health file as read: what could be read of it, and what could not."""

    states: dict[str, SourceHealth]
    written_ms: int = 0
    problems: list[str] | None = None
    exists: bool = True
    broken: bool = False
    """Nothing of it could be read (not JSON, not an object)."""


def read_health(path: Path) -> HealthFile:
    """Read a health file, keeping whatever is readable: a field that does not fit takes
    its default, a source that is not an object starts fresh, a file that is not JSON at
    all (a bad merge) counts as empty. Each problem is listed; nothing raises."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return HealthFile({}, exists=False, problems=[])
    except OSError as exc:
        return HealthFile({}, broken=True, problems=[f"{path}: cannot be read ({exc.strerror or exc})"])
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return HealthFile({}, broken=True, problems=[
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"])
    except json.JSONDecodeError as exc:
        return HealthFile({}, broken=True, problems=[
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"])
    except RecursionError:
        return HealthFile({}, broken=True, problems=[f"{path}: not valid JSON (nested too deeply)"])
    problems: list[str] = []
    states, written = _parse(document, problems)
    return HealthFile(states, written, [f"{path}: {p}" for p in problems],
                      broken=not isinstance(document, dict) or not isinstance(document.get("sources"), dict))


def state_files(root: Path) -> tuple[Path, Path]:
    """An archive's committed health file and its cached copy."""
    return root / HEALTH_FILE, root / CACHE_DIR / "health.json"


def load_states(committed: Path, cached: Path, *, keep_bad: bool = False,
                ) -> tuple[dict[str, SourceHealth], list[str]]:
    """The state to start a run from: the cached copy, or the committed one when a later
    run wrote it (or the cache is missing or unreadable). Returns the states and one line
    per problem found; what was unreadable starts fresh. `keep_bad`: copy each file with
    a problem to `<name>.bad` (see `keep_bad_copy`) before the run writes over it."""
    ours, theirs = read_health(cached), read_health(committed)
    usable = [f for f in (ours, theirs) if f.exists and not f.broken]
    pick = max(usable, key=lambda f: f.written_ms, default=None)  # a tie goes to the cache
    problems = []
    for f, path, other in ((ours, cached, "committed"), (theirs, committed, "cached")):
        if not f.problems:
            continue
        line = f.problems[0] + (f" (and {len(f.problems) - 1} more)" if len(f.problems) > 1 else "")
        if f is not pick and pick is not None:
            line += f"; the {other} copy is used"
        elif f.broken:
            line += "; the source state starts fresh"
        if keep_bad and f.exists:
            line += f" ({keep_bad_copy(path)})"
        problems.append(line)
    return (dict(pick.states) if pick else {}), problems


def _parse(document: Any, problems: list[str]) -> tuple[dict[str, SourceHealth], int]:
    if not isinstance(document, dict):
        problems.append(f"expected a JSON object at the top, found {_kind(document)}; starting fresh")
        return {}, 0
    version = document.get("version", 1)
    if version not in READABLE_VERSIONS:
        problems.append(f"unsupported health file version {version!r} "
                        f"(expected {FORMAT_VERSION}); reading what fits")
    written = document.get("written_ms")
    if not (isinstance(written, int) and not isinstance(written, bool) and written >= 0):
        written = 0
    sources = document.get("sources")
    if not isinstance(sources, dict):
        problems.append(f"'sources' must be an object, found {_kind(sources)}; starting fresh")
        return {}, written
    states = {}
    for slug, entry in sources.items():
        if not slug:
            problems.append("a source has an empty name; left out")
            continue
        state = _parse_source(slug, entry, problems)
        if state is not None:
            states[slug] = state
    return states, written


def _parse_source(slug: str, entry: Any, problems: list[str]) -> SourceHealth | None:
    if not isinstance(entry, dict):
        problems.append(f"source {slug!r}: expected an object, found {_kind(entry)}; starting it fresh")
        return None
    known = {f.name for f in fields(SourceHealth)}
    values = {}
    for name, value in entry.items():
        if name not in known:
            continue
        problem = _check(name, value)
        if problem:
            problems.append(f"source {slug!r}: field {name!r} {problem}, found {value!r}; "
                            "using its default")
        else:
            values[name] = value
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
    if name in _STATE_FIELDS:
        return None if value in ALERT_STATES else f"must be one of {', '.join(ALERT_STATES)}"
    return None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
