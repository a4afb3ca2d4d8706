"""`newsmirror archive`: archive pages on request, from the command line or from the
GitHub issue that asked for them (writing the reply for the workflow to post)."""

from __future__ import annotations

import asyncio
import json
import re
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
    resolve_config,
)
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION

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


class EventError(ValueError):
    """The issue event file is not what the workflow should give."""


def read_issue_event(path: Path) -> tuple[int, str, str]:
    """(issue number, issue title + body, repository full name) of an `issues` event."""
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EventError(f"{path}: cannot read the event ({err})") from None
    issue = event.get("issue") if isinstance(event, dict) else None
    repository = event.get("repository") if isinstance(event, dict) else None
    if not isinstance(issue, dict) or not isinstance(repository, dict):
        raise EventError(f"{path}: not a GitHub issues event (no issue or repository)")
    number, full_name = issue.get("number"), repository.get("full_name")
    if not isinstance(number, int) or not isinstance(full_name, str):
        raise EventError(f"{path}: the event has no issue number or repository name")
    text = "\n".join(str(issue.get(k) or "") for k in ("title", "body"))
    return number, text, full_name


def blob_url(full_name: str, branch: str, path: str) -> str:
    return f"https://github.com/{full_name}/blob/{quote(branch)}/{quote(path)}"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def render_comment(outcomes, *, full_name: str, branch: str, pushed: bool = True) -> str:
    """The reply posted on the issue: a link to each archived file, or why it failed."""
    if not outcomes:
        return ("没有在这个 issue 里找到网址。请把要存档的网页地址（http:// 或 https:// 开头）"
                "写在正文里。\n\nNo web address found in this issue: put the addresses of the "
                "pages to archive (starting with http:// or https://) in its body.\n")
    done = sum(1 for o in outcomes if o.ok)
    lines = [f"已存档 {done}/{len(outcomes)} 个网页。 Archived {done} of {len(outcomes)} pages.", ""]
    for o in outcomes:
        if o.ok:
            note = "已存档 archived" if o.status == "archived" else "早已存档 already archived"
            title = _md(o.title or o.path)
            lines.append(f"- {note}: [{title}]({blob_url(full_name, branch, o.path)}) ← {o.url}")
        else:
            lines.append(f"- 失败 failed: {o.url} — {o.reason}")
    if not pushed:
        lines += ["", "注意：推送失败，链接会在下次推送后生效。 Note: the push failed; the links "
                      "work once the next run pushes."]
    return "\n".join(lines) + "\n"


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
) -> None:
    """Archive web pages on request into requests/, list them in lists/requests.md,
    commit and push.

    Pages already in the archive are not fetched again. Exits 1 when any page failed,
    2 on a bad configuration or event file, 3 when the archive is busy or git failed (a
    failed push included; the reply is written first), 130 when interrupted.
    """
    from newsmirror.archive.requests import archive_requests
    from newsmirror.archive.store import ArchiveBusyError
    from newsmirror.publish.git import GitError

    full_name = None
    wanted = list(urls or [])
    if from_issue is not None:
        try:
            number, text, full_name = read_issue_event(from_issue)
        except EventError as err:
            raise out.fail(str(err), 2) from None
        out.info(f"issue #{number} of {full_name}")
        wanted += urls_in_text(text)
    elif not wanted:
        raise out.fail("give the addresses to archive, or --from-issue EVENT.json", 2)
    loaded = resolve_config(config, archive_dir)
    preflight(loaded, push=not no_push)
    outcomes, pushed, failed_push = [], True, None
    if wanted:
        head = archive_head(loaded.archive)
        try:
            report = asyncio.run(archive_requests(loaded, wanted, push=not no_push))
        except KeyboardInterrupt:
            raise interrupted(loaded.archive, head) from None
        except (ArchiveBusyError, GitError) as err:
            raise out.fail(str(err), 3) from None
        outcomes = report.outcomes
        pushed = report.push is None or report.push.ok
        for o in outcomes:
            line = f"{o.status}: {o.url}" + (f" -> {o.path}" if o.path else f" ({o.reason})")
            out.stdout.print(line, markup=False)
        failed_push = push_failed(report.push)
    if comment_out is not None:
        name = full_name or "OWNER/REPO"
        comment_out.write_text(render_comment(outcomes, full_name=name, branch=loaded.branch,
                                              pushed=pushed), encoding="utf-8")
    if failed_push is not None:
        raise failed_push
    if not outcomes or not all(o.ok for o in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("archive")(archive)
