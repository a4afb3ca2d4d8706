"""`newsmirror archive`: archive pages on request, from the command line or from the
GitHub issue that asked for them (writing the reply for the workflow to post)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import typer

from newsmirror.cli.output import (
    archive_head,
    interrupted,
    out,
    preflight,
    push_failed,
    report_mirrors,
    resolve_config,
)
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION
from newsmirror.dates import api_time
from newsmirror.errors import CONFIG, FAILED, NewsmirrorError

# An address ends at white space, quotes, angle brackets, or CJK punctuation.
_URL = re.compile(r"""https?://[^\s<>"'`，。、；：！？（）【】「」『』《》]+""", re.I)
_TRAILING = ".,;:!?)]}*_~"


def urls_in_text(text: str) -> list[str]:
    """The http(s) addresses in an issue body, in order, each once. Markdown around them
    ([text](url), <url>, **url**) and trailing punctuation are left out."""
    found: list[str] = []
    for match in _URL.finditer(text or ""):
        url = match.group(0)
        while url and url[-1] in _TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break  # a balanced ")" belongs to the address (Wikipedia style)
            url = url[:-1]
        if url not in found:
            found.append(url)
    return found


class EventError(NewsmirrorError, ValueError):
    """The issue event file is not what the workflow should give."""

    exit_code = CONFIG


def _load_event(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise EventError(f"{path}: cannot read the event (JSON nested too deeply; not a "
                         "GitHub event)") from None
    except (OSError, ValueError) as err:
        raise EventError(f"{path}: cannot read the event ({err})") from None


def read_issue_event(path: Path) -> tuple[int, str, str]:
    """(issue number, issue title + body, repository full name) of an `issues` event."""
    event = _load_event(path)
    issue = event.get("issue") if isinstance(event, dict) else None
    repository = event.get("repository") if isinstance(event, dict) else None
    if not isinstance(issue, dict) or not isinstance(repository, dict):
        raise EventError(f"{path}: not a GitHub issues event (no issue or repository)")
    number, full_name = issue.get("number"), repository.get("full_name")
    if not isinstance(number, int) or not isinstance(full_name, str):
        raise EventError(f"{path}: the event has no issue number or repository name")
    text = "\n".join(str(issue.get(k) or "") for k in ("title", "body"))
    return number, text, full_name


COLLABORATORS = ("OWNER", "MEMBER", "COLLABORATOR")
"""The `author_association` values of people with a say in the repository."""
REPLY_MARKER = "<!-- newsmirror-request -->"
"""First line of every reply: an issue with a reply carrying it (by a bot) is done."""
MAX_REPLY_BYTES = 60_000
"""A reply stays below the git host's comment limit (65,536 characters) in any count."""


@dataclass(frozen=True)
class IssueEvent:
    """What an `issues` event says about the request."""

    number: int
    text: str
    full_name: str
    action: str | None = None
    event_label: str | None = None
    """The label added, for a `labeled` event."""
    labels: tuple[str, ...] = ()
    author: str | None = None
    association: str = "NONE"
    created: datetime | None = None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value) -> str | None:
    return value if isinstance(value, str) else None




def issue_event(path: Path) -> IssueEvent:
    """The `issues` event at `path` (read_issue_event's checks, then the rest)."""
    number, text, full_name = read_issue_event(path)
    event = _load_event(path)
    issue = event["issue"]
    label = event.get("label")
    labels = issue.get("labels") if isinstance(issue.get("labels"), list) else []
    user = issue.get("user") if isinstance(issue.get("user"), dict) else {}
    return IssueEvent(
        number=number, text=text, full_name=full_name, action=_str(event.get("action")),
        event_label=_str(label.get("name")) if isinstance(label, dict) else None,
        labels=tuple(n for n in (_str(x.get("name")) for x in labels if isinstance(x, dict)) if n),
        author=_str(user.get("login")),
        association=_str(issue.get("author_association")) or "NONE",
        created=api_time(issue.get("created_at")))


def json_items(path: Path) -> list[dict]:
    """The objects in a file of GitHub API answers: one JSON array, several in a row (what
    `gh api --paginate` prints) or one object per line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise EventError(f"{path}: cannot read it ({err})") from None
    decoder, pos = json.JSONDecoder(), 0
    items: list = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return [item for item in items if isinstance(item, dict)]
        try:
            value, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as err:
            raise EventError(f"{path}: not the JSON of GitHub's API ({err})") from None
        items.extend(value if isinstance(value, list) else [value])


def answered(replies: list[dict]) -> bool:
    """Whether a bot (the workflow's token) already replied with REPLY_MARKER. Comments
    by people do not count: anyone may paste the marker."""
    for reply in replies:
        user = _dict(reply.get("user"))
        bot = user.get("type") == "Bot" or str(user.get("login") or "").endswith("[bot]")
        if bot and REPLY_MARKER in str(reply.get("body") or ""):
            return True
    return False


def recent_requests(issues: list[dict], event: IssueEvent, now: datetime) -> int:
    """How many other requests (issues, not pull requests) the event's author opened in
    the 24 hours before this one."""
    until = event.created or now
    count = 0
    for issue in issues:
        user = _dict(issue.get("user"))
        created = api_time(issue.get("created_at"))
        if issue.get("number") == event.number or "pull_request" in issue or created is None:
            continue
        if event.author and user.get("login") not in (None, event.author):
            continue
        if until - timedelta(days=1) <= created <= until:
            count += 1
    return count


@dataclass(frozen=True)
class Screening:
    """What to do with an issue: "skip" it (no reply), "refuse" it (reply `reason`) or
    "archive" it."""

    verdict: str
    reason: str = ""


def screen_issue(event: IssueEvent, settings, *, label: str, replies: list[dict] | None,
                 recent: list[dict] | None, now: datetime) -> Screening:
    """The checks before anything is fetched, in order: the right event for the label,
    not answered yet, someone who may ask, within their daily number of requests."""
    if event.action == "opened" and label not in event.labels:
        return Screening("skip", f"issue #{event.number} was opened without the label {label!r}")
    if event.action == "labeled" and event.event_label != label:
        return Screening("skip", f"issue #{event.number} was given another label, not {label!r}")
    if event.action not in (None, "opened", "labeled"):
        return Screening("skip", f"a {event.action!r} event, not a request")
    if replies is not None and answered(replies):
        return Screening("skip", f"issue #{event.number} already has newsmirror's reply")
    collaborator = event.association in COLLABORATORS
    if settings.who_may_ask == "collaborators" and not collaborator:
        return Screening("refuse", "这个存档只接受仓库协作者的请求。 This archive takes requests only "
                                   "from the repository's collaborators.")
    if settings.per_person_per_day and not collaborator and recent is not None:
        count = recent_requests(recent, event, now)
        if count >= settings.per_person_per_day:
            n = settings.per_person_per_day
            return Screening("refuse", f"每人每天最多 {n} 个存档请求，请明天再试（开一个新的 issue）。 "
                                       f"At most {n} requests per person a day: please try again "
                                       "tomorrow, in a new issue.")
    return Screening("archive")


def host_allowed(url: str, sites: tuple[str, ...]) -> bool:
    """Whether `url` is on one of `sites` (the host or a subdomain); any when empty."""
    from urllib.parse import urlsplit

    if not sites:
        return True
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    return any(host == site or host.endswith("." + site) for site in sites)


def blob_url(full_name: str, branch: str, path: str) -> str:
    return f"https://github.com/{full_name}/blob/{quote(branch)}/{quote(path)}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _clip(text: str, limit: int) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _md(text: str, limit: int = 200) -> str:
    """Text for link text: every ASCII punctuation mark backslash-escaped, so nothing in
    it makes a link, image, HTML, emphasis or autolink (mentions and #refs do not render
    inside a link), on one line and at most `limit` characters."""
    return _PUNCTUATION.sub(r"\\\1", _clip(text, limit))


def _code(text: str, limit: int = 300) -> str:
    """Text as an inline code span: shown literally, never a link, ping or HTML."""
    text = _clip(text, limit) or " "
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def render_comment(outcomes, *, full_name: str, branch: str, pushed: bool = True,
                   skipped: int = 0, limit: int = 0, refusal: str | None = None,
                   max_bytes: int = MAX_REPLY_BYTES) -> str:
    """The reply posted on the issue: a link to each archived file, or why it failed;
    everything it echoes escaped, and at most `max_bytes` of UTF-8 in all. `skipped`
    addresses past the `limit` per request were not processed; a `refusal` is the whole
    reply."""
    head = REPLY_MARKER + "\n"
    if refusal is not None:
        return head + refusal + "\n"
    if not outcomes:
        return head + ("没有在这个 issue 里找到网址。请把要存档的网页地址（http:// 或 https:// 开头）"
                       "写在正文里。\n\nNo web address found in this issue: put the addresses of the "
                       "pages to archive (starting with http:// or https://) in its body.\n")
    done = sum(1 for o in outcomes if o.ok)
    lines = [f"已存档 {done}/{len(outcomes)} 个网页。 Archived {done} of {len(outcomes)} pages.", ""]
    for o in outcomes:
        if o.ok:
            note = "已存档 archived" if o.status == "archived" else "早已存档 already archived"
            title = _md(o.title or "") or _md(o.path)
            # A file a shard holds is in the repository `<name>-<YEAR>` beside this one.
            holder = f"{full_name}-{o.shard}" if o.shard else full_name
            lines.append(f"- {note}: [{title}]({blob_url(holder, branch, o.path)}) ← {_code(o.url)}")
        else:
            lines.append(f"- 失败 failed: {_code(o.url)} — {_code(o.reason or 'unknown')}")
    tail = []
    if skipped:
        tail += ["", f"另有 {skipped} 个网址未处理：每个请求最多 {limit} 个。 {skipped} more "
                     f"address{'es were' if skipped > 1 else ' was'} not processed: at most "
                     f"{limit} per request."]
    if not pushed:
        tail += ["", "注意：推送失败，链接会在下次推送后生效。 Note: the push failed; the links "
                     "work once the next run pushes."]
    room = max_bytes - len(head.encode()) - len("\n".join(tail).encode()) - 200
    kept, used = [], 0
    for line in lines:
        size = len(line.encode()) + 1
        if used + size > room:
            break
        kept.append(line)
        used += size
    if len(kept) < len(lines):
        cut = len(lines) - len(kept)
        kept += ["", f"（回复太长，省略了 {cut} 行。） ({cut} more lines left out: the reply "
                     "would be too long; see lists/requests.md.)"]
    return head + "\n".join(kept + tail) + "\n"


def archive(
    urls: Optional[list[str]] = typer.Argument(None, help="Addresses of the pages to archive."),
    from_issue: Optional[Path] = typer.Option(
        None, "--from-issue", help="A GitHub `issues` event JSON file: archive the addresses "
        "in the issue's title and body."),
    comment_out: Optional[Path] = typer.Option(
        None, "--comment-out", help="Write a Markdown reply (links or reasons) to this file."),
    config: Optional[Path] = CONFIG_OPTION,
    archive_dir: Optional[Path] = ARCHIVE_OPTION,
    no_push: bool = typer.Option(False, "--no-push", help="Commit but do not push."),
    replies_file: Optional[Path] = typer.Option(
        None, "--replies", help="The issue's comments so far (GitHub API JSON): an issue "
        "newsmirror already answered is skipped."),
    recent_file: Optional[Path] = typer.Option(
        None, "--recent", help="The author's recent issues (GitHub API JSON), for "
        "[requests] per_person_per_day."),
    label: str = typer.Option("archive", "--label", help="The label that makes an issue a request."),
) -> None:
    """Archive web pages on request into requests/, list them in lists/requests.md,
    commit and push.

    Pages already in the archive are not fetched again. With --from-issue, the
    [requests] settings apply: an issue is handled once (an event for another label, or
    an issue already answered, is skipped with no reply), only who may ask is served, at
    most max_urls addresses per issue. Exits 0 when every page was archived or the issue
    was skipped or refused (the reply says why), 1 when any page failed, 2 on a bad
    configuration or event file, 3 when the archive is busy or git failed (a failed push
    included; the reply is written first), 130 when interrupted.
    """
    from newsmirror.jobs.requests import archive_requests

    full_name = None
    wanted = list(urls or [])
    event = replies = recent = None
    if from_issue is not None:
        number, text, full_name = read_issue_event(from_issue)
        event = issue_event(from_issue)
        replies = json_items(replies_file) if replies_file is not None else None
        recent = json_items(recent_file) if recent_file is not None else None
        out.info(f"issue #{number} of {full_name}")
        wanted += urls_in_text(text)
    elif not wanted:
        raise out.fail("give the addresses to archive, or --from-issue EVENT.json", CONFIG)
    loaded = resolve_config(config, archive_dir)
    refusal, skipped, blocked = None, 0, {}
    if event is not None:
        settings = loaded.requests
        screening = screen_issue(event, settings, label=label, replies=replies, recent=recent,
                                 now=datetime.now(UTC))
        if screening.verdict == "skip":
            out.info(f"nothing to do: {screening.reason}")
            if comment_out is not None:
                comment_out.unlink(missing_ok=True)
            return
        if screening.verdict == "archive" and settings.per_person_per_day and recent is None \
                and event.association not in COLLABORATORS:
            out.warn("the per-person limit was not checked: no --recent file")
        if screening.verdict == "refuse":
            refusal, wanted = screening.reason, []
            out.info(f"issue #{event.number} refused: {screening.reason}")
        skipped = max(0, len(wanted) - settings.max_urls)
        wanted = wanted[:settings.max_urls]
        blocked = {url: i for i, url in enumerate(wanted) if not host_allowed(url, settings.sites)}
        wanted = [url for url in wanted if url not in blocked]
    preflight(loaded, push=not no_push)
    outcomes, pushed, failed_push = [], True, None
    if wanted:
        head = archive_head(loaded.archive)
        try:
            import asyncio

            report = asyncio.run(archive_requests(loaded, wanted, push=not no_push))
        except KeyboardInterrupt:
            raise interrupted(loaded.archive, head) from None
        outcomes = report.outcomes
        pushed = report.push is None or report.push.ok
        for o in outcomes:
            line = f"{o.status}: {o.url}" + (f" -> {o.path}" if o.path else f" ({o.reason})") \
                + (f" (shard {o.shard})" if o.shard else "")
            out.stdout.print(line, markup=False)
            if o.traceback and out.verbose:
                out.detail(o.traceback.rstrip())
        report_mirrors(report.mirrors, report.warnings)
        failed_push = push_failed(report.push)
    if blocked:
        outcomes = _with_blocked(outcomes, blocked)
    if skipped:
        out.warn(f"{skipped} more addresses not processed (at most "
                 f"{loaded.requests.max_urls} per request)")
    if comment_out is not None:
        name = full_name or "OWNER/REPO"
        comment_out.write_text(render_comment(outcomes, full_name=name, branch=loaded.branch,
                                              pushed=pushed, skipped=skipped,
                                              limit=loaded.requests.max_urls, refusal=refusal),
                               encoding="utf-8")
    if failed_push is not None:
        raise failed_push
    if refusal is None and (not outcomes or not all(o.ok for o in outcomes)):
        raise typer.Exit(FAILED)


def _with_blocked(outcomes: list, blocked: dict[str, int]) -> list:
    """`outcomes` with a failure for each address not on [requests] sites, in the
    issue's order (`blocked` maps each to its position)."""
    from newsmirror.jobs.requests import RequestOutcome

    merged, rest = [], iter(outcomes)
    at = {i: url for url, i in blocked.items()}
    for i in range(len(outcomes) + len(blocked)):
        url = at.get(i)
        if url is not None:
            out.stdout.print(f"failed: {url} (not on this archive's list of sites)", markup=False)
            merged.append(RequestOutcome(url, "failed", reason="不在本存档接受的网站之列 not on "
                                         "this archive's list of sites"))
        else:
            merged.append(next(rest))
    return merged


def register(app: typer.Typer) -> None:
    app.command("archive")(archive)
