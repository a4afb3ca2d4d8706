"""How the CLI talks: a live progress display on a terminal, plain log lines otherwise,
less with --quiet and more with --verbose. Everything but a command's real output goes
to standard error."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newsmirror.models import SourceOutcome


class Output:
    def __init__(self) -> None:
        self.quiet = False
        self.verbose = False
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.stdout = Console(highlight=False, soft_wrap=True)

    def configure(self, *, quiet: bool, verbose: bool) -> None:
        self.quiet, self.verbose = quiet, verbose and not quiet

    @property
    def live(self) -> bool:
        return self.err.is_terminal and not self.quiet

    def _line(self, text: str, style: str | None = None) -> None:
        if self.err.is_terminal:
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
    return f"{o.slug}: {o.new} new, {o.updated} updated, {o.unchanged} unchanged"


class RunProgress:
    """The pipeline's Reporter: a progress bar on a terminal, a log line per source otherwise."""

    def __init__(self, label: str = "mirroring") -> None:
        self.label = label
        self.progress: Progress | None = None
        self.task = None

    def start(self, total: int) -> None:
        if out.live:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     console=out.err, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=total)
        else:
            out.detail(f"{self.label} {total} sources")

    def source_done(self, outcome: SourceOutcome) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
            self.progress.update(self.task, description=f"{self.label} ({outcome.slug} done)")
        line = describe_outcome(outcome)
        if outcome.failed:
            out.warn(line)
        elif outcome.new or outcome.updated:
            out.info(line)
        else:
            out.detail(line)

    def note(self, message: str) -> None:
        out.info(message)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def resolve_config(config: Path | None, archive: Path | None):
    """Load the configuration named on the command line (or ./newsmirror.toml), with
    --archive overriding the archive folder; exits with a clear message when it is wrong."""
    from dataclasses import replace

    from newsmirror.config import ConfigError, load_config

    path = config or Path("newsmirror.toml")
    try:
        loaded = load_config(path)
    except ConfigError as err:
        raise out.fail(str(err), 2) from None
    return replace(loaded, archive=archive.resolve()) if archive else loaded
