"""How the CLI talks: a live progress display on a terminal, plain log lines otherwise,
less with --quiet and more with --verbose. Everything but a command's real output goes
to standard error."""

from __future__ import annotations

import os
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

from newsmirror.archive.paths import ASSETS_DIR
from newsmirror.errors import ARCHIVE, CONFIG, INTERRUPTED
from newsmirror.models import SourceOutcome, plural


_TERMINAL_ENV = ("FORCE_TERMINAL", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
"""Variables by which rich may take a stream that is not a terminal for one."""


class Output:
    def __init__(self) -> None:
        self.quiet = False
        self.verbose = False

    # rich is imported when something is printed through it, not at start-up: a scheduled
    # run logging to a file or pipe never needs it before its result (issue 16, item 7).
    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True)

    @cached_property
    def stdout(self) -> Console:
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)

    def configure(self, *, quiet: bool, verbose: bool) -> None:
        self.quiet, self.verbose = quiet, verbose and not quiet

    @property
    def err_is_terminal(self) -> bool:
        """rich's answer for standard error; without importing rich when it is plainly not a
        terminal (not a tty, and no variable that could make rich take it for one)."""
        if "err" not in self.__dict__ and not sys.stderr.isatty() \
                and not any(name in os.environ for name in _TERMINAL_ENV):
            return False
        return self.err.is_terminal

    @property
    def live(self) -> bool:
        return self.err_is_terminal and not self.quiet

    def _line(self, text: str, style: str | None = None) -> None:
        if self.err_is_terminal:
            self.err.print(text, style=style, markup=False)
        else:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            print(f"{stamp} {text}", file=sys.stderr, flush=True)

    def info(self, text: str) -> None:
        if not self.quiet:
            self._line(text)

    def detail(self, text: str) -> None:
        if self.verbose:
            self._line(text, "dim")

    def warn(self, text: str) -> None:
        self._line(f"warning: {text}", "yellow")

    def error(self, text: str) -> None:
        self._line(f"error: {text}", "bold red")

    def fail(self, text: str, code: int = 1) -> typer.Exit:
        """Print an error and return the Exit to raise."""
        self.error(text)
        return typer.Exit(code)


out = Output()


def describe_outcome(o: SourceOutcome) -> str:
    if o.skipped:
        return f"{o.slug}: skipped, {o.skipped}"
    if o.failed:
        return f"{o.slug}: FAILED, {o.failed}"
    if o.not_modified:
        return f"{o.slug}: not modified"
    line = f"{o.slug}: {o.new} new, {o.updated} updated, {o.unchanged} unchanged"
    if o.failed_items:
        line += f", {len(o.failed_items)} failed"
    return line


class RunProgress:
    """The pipeline's Reporter. On a terminal, a progress bar that counts the feeds, then
    every article page and set of images as the sources find them, and names what is
    being fetched, with each source's pages counted ("voa pages 12/60": pages are fetched
    several at a time); otherwise nothing but -v's detail lines (the per-source lines are
    the command's result, printed once on standard output by the command itself)."""

    def __init__(self, label: str = "mirroring") -> None:
        self.label = label
        self.progress: Progress | None = None
        self.task = cast("TaskID", 0)
        self.total = 0
        self.active: dict[str, str] = {}
        self.pages: dict[str, list[int]] = {}
        """Per source: its pages done and found so far."""
        self.finished: list[SourceOutcome] = []

    def start(self, total: int) -> None:
        if out.live:
            # Imported only for a terminal (issue 16: start-up).
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     console=out.err, transient=True)
            self.progress.start()
            self.total = total
            self.task = self.progress.add_task(self.label, total=total)
        out.detail(f"{self.label}: {plural(total, 'source')}")

    def _describe(self) -> None:
        if self.progress is None:
            return
        doing = [f"{slug} {self._what(slug, what)}" for slug, what in reversed(self.active.items())]
        more = f" +{len(doing) - 2}" if len(doing) > 2 else ""
        text = f"{self.label}: {', '.join(doing[:2])}{more}" if doing else self.label
        self.progress.update(self.task, description=text)

    def _what(self, slug: str, what: str) -> str:
        done, found = self.pages.get(slug, (0, 0))
        if what == "page" or (what == "…" and done < found):
            return f"pages {done}/{found}"
        return what

    def working(self, slug: str, what: str) -> None:
        if self.progress is not None and what != "feed":
            self.total += 1
            self.progress.update(self.task, total=self.total)
        if what == "page":
            self.pages.setdefault(slug, [0, 0])[1] += 1
        self.active.pop(slug, None)
        self.active[slug] = what
        self._describe()

    def worked(self, slug: str, what: str) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
        if what == "page" and slug in self.pages:
            self.pages[slug][0] += 1
        if self.active.get(slug) == what:
            self.active[slug] = "…"
        self._describe()

    def source_done(self, outcome: SourceOutcome) -> None:
        self.finished.append(outcome)
        self.active.pop(outcome.slug, None)
        if self.progress is not None:
            self.progress.advance(self.task)
        self._describe()
        out.detail(f"{outcome.slug}: finished")

    def note(self, message: str) -> None:
        out.info(message)

    def item_failed(self, slug: str, failure) -> None:
        """Nothing now: the summary shows each failed item once, with its reason."""

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def preflight(config, *, push: bool) -> None:
    """The checks of `newsmirror check`, before a command touches anything: every
    problem on its own line, then exit 2."""
    from newsmirror.checks import config_problems

    problems = config_problems(config, push=push)
    for problem in problems:
        out.error(str(problem))
    if problems:
        raise typer.Exit(CONFIG)


def push_failed(result) -> typer.Exit | None:
    """Exit 3 with git's own reason when a push failed; None when it did not."""
    if result is None or result.ok:
        return None
    return out.fail(f"{result.message}\nThe commits stay in the archive, not pushed; the next "
                    "successful push sends them.", ARCHIVE)


def report_mirrors(outcomes, warnings=()) -> None:
    """One line per mirror: pushed (standard output), up to date (-v), failed or backing off
    (a warning: a mirror never fails the command); then the mirrors' own warnings."""
    for outcome in outcomes:
        if outcome.ok and outcome.message.endswith("up to date"):
            out.detail(outcome.message)
        elif outcome.ok:
            out.stdout.print(outcome.message, markup=False)
        else:
            out.warn(outcome.message)
    for warning in warnings:
        out.warn(warning)


def archive_head(folder: Path) -> str | None:
    """The archive's commit before a command starts (None when it has none yet)."""
    from newsmirror.archive.git import GitError, Repo

    if not (folder / ".git").exists():
        return None
    try:
        return Repo(folder).head()
    except GitError:
        return None


def interrupted(folder: Path, head_before: str | None) -> typer.Exit:
    """Say what Ctrl-C left and what the next run does about it; exit 130."""
    from newsmirror.archive.git import GitError, Repo
    from newsmirror.archive.paths import ARTICLES_DIR, REQUESTS_DIR

    head, waiting = None, 0
    if (folder / ".git").exists():
        try:
            repo = Repo(folder)
            head = repo.head()
            waiting = len(repo.dirty(ARTICLES_DIR, REQUESTS_DIR, ASSETS_DIR))
        except (GitError, OSError):
            pass
    parts = []
    if head and head != head_before:
        parts.append(f"the commit {head[:10]} is kept, not pushed; the next run pushes it")
    if waiting:
        parts.append(f"{waiting} file(s) written so far are kept, not committed; the next "
                     "run re-reads and commits them")
    kept = "; ".join(parts) or "nothing new was written"
    out.error(f"interrupted: {kept}. Nothing archived before is lost, and the next run "
              "fetches what this one did not reach.")
    return typer.Exit(INTERRUPTED)


def resolve_config(config: Path | None, archive: Path | None):
    """Load the configuration named on the command line (or ./newsmirror.toml), with
    --archive overriding the archive folder; ConfigError (exit 2) when it is wrong."""
    from dataclasses import replace

    from newsmirror.config import check_archive_folder, load_config

    path = config or Path("newsmirror.toml")
    loaded = load_config(path)
    if archive:
        check_archive_folder(archive, path, "--archive", "")
    return replace(loaded, archive=archive.resolve()) if archive else loaded
