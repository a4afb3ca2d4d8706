"""Alerts: a JSON POST to the operator's webhook when a source becomes failing, stale or
dead, and again when it recovers.

One POST per change of state, never one per run: the state last delivered is kept in the
source's health (`alerted`), which survives ephemeral runners like the rest of it. A POST
that fails is not counted as delivered, so the next run tries again; it never fails the
run. The body carries `text` (and `content`), so chat services that take either (Slack,
Mattermost, Discord, …) show the line as it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from newsmirror.addresses import web_problem
from newsmirror.config import AlertSettings, SourceConfig
from newsmirror.dates import utc_day
from newsmirror.fetch.client import FetchSettings
from newsmirror.sources.health import DAY_MS, HOUR_MS, SourceHealth, days_since_new

EVENTS = {"failing": "failing", "stale": "stale", "dead": "dead", "ok": "recovered"}


def resolve_webhook(settings: AlertSettings) -> tuple[str | None, str | None]:
    """The webhook address to use (None: alerts are off) and, when it cannot be used, why."""
    if settings.webhook:
        return settings.webhook, None
    if not settings.webhook_env:
        return None, None
    url = os.environ.get(settings.webhook_env, "").strip()
    if not url:
        return None, f"alerts: ${settings.webhook_env} is not set; no alerts sent"
    if problem := web_problem(url):  # the address is a secret: said of it, not shown
        return None, f"alerts: ${settings.webhook_env} {problem}; no alerts sent"
    return url, None


def _day(ms: int) -> str:
    return utc_day(ms)


def _every(ms: int) -> str:
    return f"{ms / DAY_MS:.1f} days" if ms >= DAY_MS else f"{ms / HOUR_MS:.1f} hours"


def alert_text(source: SourceConfig, h: SourceHealth, previous: str, now_ms: int) -> str:
    """The alert in one line, for people."""
    who = f"{source.name} ({source.slug})"
    if h.state == "ok":
        return f"{who} has recovered (it was {previous})"
    if h.state == "stale":
        days = days_since_new(h, now_ms)
        since = f"for {days:.0f} days" if days is not None else "since it was added"
        usual = f" (it usually publishes every {_every(h.interval_ms)})" if h.interval_ms else ""
        return f"{who} is stale: it answers, but no new article {since}{usual}"
    plural = "failure" if h.failures == 1 else "failures"
    line = f"{who} is {h.state}: {h.failures} consecutive {plural}"
    if h.failing_since_ms is not None:
        line += f" since {_day(h.failing_since_ms)}"
    if h.dead and h.state == "dead":
        line += " (410 Gone)"
    return line + (f"; last error: {h.last_error}" if h.last_error else "")


def alert_payload(source: SourceConfig, h: SourceHealth, previous: str, now_ms: int,
                  archive: str) -> dict:
    """The JSON body of one alert."""
    text = f"newsmirror ({archive}): " + alert_text(source, h, previous, now_ms)
    return {
        "event": EVENTS[h.state],
        "source": source.slug,
        "name": source.name,
        "feed_url": source.url,
        "state": h.state,
        "previous": previous,
        "consecutive_failures": h.failures,
        "last_error": h.last_error,
        "failing_since_ms": h.failing_since_ms,
        "last_success_ms": h.last_success_ms,
        "last_new_ms": h.last_new_ms,
        "archive": archive,
        "time_ms": now_ms,
        "text": text,
        "content": text,
    }


@dataclass
class Delivery:
    delivered: list[str]
    """Slugs whose alert the webhook accepted."""
    problem: str | None = None
    """One line: why the rest were not delivered."""


async def send_alerts(url: str, alerts: Sequence[tuple[str, dict]],
                      settings: FetchSettings) -> Delivery:
    """POST each (slug, payload) in turn; stop at the first failure (a webhook that is down
    would only make each of the rest wait for its timeout too)."""
    done = Delivery([])
    if not alerts:
        return done
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                 headers={"User-Agent": settings.user_agent}) as client:
        for slug, payload in alerts:
            try:
                # Streamed and never read: whatever the webhook answers costs no memory.
                async with client.stream("POST", url, json=payload) as response:
                    reason = None if 200 <= response.status_code < 300 else \
                        f"HTTP {response.status_code} {response.reason_phrase}".strip()
            except httpx.TimeoutException:
                reason = f"no answer within {settings.timeout:g} s"
            except httpx.HTTPError as err:
                reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            if reason:
                left = len(alerts) - len(done.delivered)
                done.problem = (f"alert webhook failed ({reason}); {left} alert(s) not sent, "
                                "the next run tries again")
                return done
            done.delivered.append(slug)
    return done
