"""One issue per unhealthy source on the archive's repository, through GitHub's `gh` CLI.

`newsmirror sources issues` (a step of the hourly workflow) reads each source's state as
the last run left it and keeps the repository's open issues labelled `source-health` in
step with it: a source that is failing, stale or dead gets one issue (never a second one:
each issue carries a marker naming its source), a change between those states is a comment
and a new title, and recovery closes the issue with a comment. A source removed from or
disabled in the configuration closes its issue too. Only issues with the marker are ever
touched.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsmirror.config import SourceConfig
from newsmirror.errors import ARCHIVE, NewsmirrorError
from newsmirror.alerts.webhook import alert_text
from newsmirror.sources.health import SourceHealth

LABEL = "source-health"
LABEL_COLOR = "B60205"
LABEL_DESCRIPTION = "A mirrored source is failing, stale or dead (opened and closed by newsmirror)"
UNHEALTHY = ("failing", "stale", "dead")
_MARKER = "<!-- newsmirror-source-health: {slug} -->"
_MARKER_RE = re.compile(r"<!-- newsmirror-source-health: (\S+) -->")
LIST_LIMIT = 1000
"""Open issues with the label read at most (far more than sources anyone mirrors)."""


class GhError(NewsmirrorError, RuntimeError):
    """`gh` is missing or a call of it failed; the message has gh's own words."""

    exit_code = ARCHIVE


class IssuesDisabled(GhError):
    """The repository has Issues turned off: its owner chose to keep none."""


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str

    @property
    def slug(self) -> str | None:
        match = _MARKER_RE.search(self.body or "")
        return match.group(1) if match else None


@dataclass(frozen=True)
class Action:
    kind: str
    """open, update (a comment and a new title), close."""
    slug: str
    title: str
    text: str
    """The line for people: the issue's first line, the comment, the closing comment."""
    number: int | None = None


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    unchanged: int = 0
    """Open issues that already say what is true."""


def issue_title(source: SourceConfig, state: str) -> str:
    return f"{source.name} ({source.slug}) is {state}"


def issue_body(source: SourceConfig, h: SourceHealth, now_ms: int) -> str:
    return (f"{alert_text(source, h, 'ok', now_ms)}\n\n"
            f"- feed: `{source.url}`\n"
            f"- state: {h.state}\n\n"
            "newsmirror opened this issue and closes it when the source recovers "
            "(see `newsmirror sources` for its history). Fixing the feed address in "
            "`newsmirror.toml` and running `newsmirror run --source "
            f"{source.slug} --force` retries it at once.\n\n"
            + _MARKER.format(slug=source.slug) + "\n")


def plan_issues(sources: Sequence[SourceConfig], health: dict[str, SourceHealth],
                open_issues: Sequence[Issue], now_ms: int) -> Plan:
    """What to do so that exactly the unhealthy sources have one open issue each."""
    plan = Plan()
    by_slug: dict[str, list[Issue]] = {}
    for issue in sorted(open_issues, key=lambda i: i.number):
        if issue.slug:
            by_slug.setdefault(issue.slug, []).append(issue)
    configured = {s.slug: s for s in sources}
    for source in sources:
        h = health.get(source.slug, SourceHealth())
        state = h.state if source.enabled else "disabled"
        issues = by_slug.pop(source.slug, [])
        if issues and len(issues) > 1:
            for extra in issues[1:]:  # opened by hand, or by a run that lost its answer
                plan.actions.append(Action("close", source.slug, extra.title,
                                           f"A duplicate of #{issues[0].number}.", extra.number))
        current = issues[0] if issues else None
        if state in UNHEALTHY:
            title = issue_title(source, state)
            text = alert_text(source, h, "ok", now_ms)
            if current is None:
                plan.actions.append(Action("open", source.slug, title, issue_body(source, h, now_ms)))
            elif current.title != title:
                plan.actions.append(Action("update", source.slug, title, f"Now {state}: {text}",
                                           current.number))
            else:
                plan.unchanged += 1
        elif current is not None:
            if state == "disabled":
                text = f"{source.name} ({source.slug}) is disabled in the configuration."
            else:
                text = alert_text(source, h, _state_in(current.title), now_ms)
            plan.actions.append(Action("close", source.slug, current.title, text, current.number))
    for slug, issues in by_slug.items():
        if slug in configured:
            continue
        for issue in issues:
            plan.actions.append(Action("close", slug, issue.title,
                                       f"The source {slug} is no longer in the configuration.",
                                       issue.number))
    return plan


def _state_in(title: str) -> str:
    """The state an issue's title names (what the source recovered from)."""
    last = title.rsplit(" is ", 1)[-1]
    return last if last in UNHEALTHY else "unhealthy"


class GitHubIssues:
    """The few `gh` calls this needs, against one repository."""

    def __init__(self, repo: str, gh: str = "gh"):
        self.repo = repo
        found = shutil.which(gh)
        if found is None:
            raise GhError(f"{gh}: command not found (GitHub's CLI, which GitHub's runners have; "
                          "see https://cli.github.com)")
        self.gh = found
        self.label_ready = False

    def _call(self, *args: str) -> str:
        done = subprocess.run([self.gh, *args, "--repo", self.repo], check=False,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            said = " ".join(line.strip() for line in (done.stderr or done.stdout).splitlines()
                            if line.strip())
            if "repository has disabled issues" in said:  # gh's words for it
                raise IssuesDisabled(said)
            raise GhError(f"gh {' '.join(args[:2])} failed (exit {done.returncode}): "
                          f"{said or 'no message'}")
        return done.stdout

    def open_issues(self) -> list[Issue]:
        out = self._call("issue", "list", "--label", LABEL, "--state", "open",
                         "--json", "number,title,body", "--limit", str(LIST_LIMIT))
        try:
            rows = json.loads(out or "[]")
            return [Issue(int(r["number"]), str(r["title"]), str(r.get("body") or ""))
                    for r in rows]
        except (ValueError, KeyError, TypeError) as err:
            raise GhError(f"gh issue list gave something other than a JSON list of issues: "
                          f"{err}") from None

    def apply(self, action: Action) -> str:
        """Carry out one action; returns gh's answer (an issue's address for `open`)."""
        if action.kind == "open":
            if not self.label_ready:
                self._call("label", "create", LABEL, "--color", LABEL_COLOR,
                           "--description", LABEL_DESCRIPTION, "--force")
                self.label_ready = True
            return self._call("issue", "create", "--title", action.title, "--body", action.text,
                              "--label", LABEL).strip()
        number = str(action.number)
        if action.kind == "update":
            self._call("issue", "comment", number, "--body", action.text)
            return self._call("issue", "edit", number, "--title", action.title).strip()
        if action.kind == "close":
            return self._call("issue", "close", number, "--comment", action.text).strip()
        raise ValueError(f"unknown action {action.kind!r}")
