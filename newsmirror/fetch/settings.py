"""The fetcher's limits, apart from the fetcher: the configuration reads them without
importing httpx (issue 16: start-up; `newsmirror check` never fetches)."""

from __future__ import annotations

from dataclasses import dataclass

from newsmirror import __version__

DEFAULT_USER_AGENT = (
    f"newsmirror/{__version__} (+https://github.com/newsmirror/newsmirror; news archive mirror)"
)


@dataclass(frozen=True)
class FetchSettings:
    """Limits for one run; the defaults suit an hourly mirror of a few dozen feeds."""

    timeout: float = 20.0
    connect_timeout: float = 10.0
    max_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    per_host: int = 2
    concurrency: int = 16
    user_agent: str = DEFAULT_USER_AGENT
    max_retry_after: float = 10.0
