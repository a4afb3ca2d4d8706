"""The `newsmirror` command. Each module of this package adds its commands through a
`register(app)` function, so a command lives next to nothing but its own kind."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Iterable

import typer
from typer.core import TyperGroup

from newsmirror import __version__
from newsmirror.cli.output import out
from newsmirror.errors import ARCHIVE, BUG, INTERRUPTED, NewsmirrorError
from newsmirror.isolation import disk_full, disk_full_message

_OUTPUT_FLAGS = {"-q", "--quiet", "-v", "--verbose"}


class _Group(TyperGroup):
    """-q/-v work after a command's name too (`newsmirror run -q`): they are taken out
    of the command's arguments and given to `newsmirror` itself."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        front: list[str] = []
        rest: list[str] = []
        for index, token in enumerate(args):
            if token == "--":
                rest.extend(args[index:])
                break
            (front if token in _OUTPUT_FLAGS else rest).append(token)
        return super().parse_args(ctx, front + rest)

    def invoke(self, ctx):
        """Whatever goes wrong ends in one clear line and an exit code of the README's
        table, never a traceback (-v adds it for an internal error). This is the one place
        that turns newsmirror's own errors into their exit codes: commands let them rise."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            out.error("interrupted")
            raise typer.Exit(INTERRUPTED) from None
        except NewsmirrorError as err:
            for line in err.lines():
                out.error(line)
            raise typer.Exit(err.exit_code) from None
        except Exception as err:
            if type(err).__module__.split(".")[0] in ("typer", "click"):
                raise  # exits, aborts and usage errors: the command line's own signals
            if disk_full(err):
                out.error(disk_full_message(err))
                raise typer.Exit(ARCHIVE) from None
            if isinstance(err, OSError):
                where = f"cannot use {err.filename}: " if err.filename else ""
                out.error(f"{where}{err.strerror or err}")
                raise typer.Exit(ARCHIVE) from None
            out.error(f"internal error (a bug in newsmirror; please report it): "
                      f"{type(err).__name__}: {err}" + ("" if out.verbose else " (-v shows where)"))
            if out.verbose:
                traceback.print_exc()
            raise typer.Exit(BUG) from None


COMMANDS = {"adopt": "adopt", "archive": "archive", "check": "check", "demo": "demo",
            "init": "init", "rebuild": "rebuild", "run": "run", "serve": "site", "site": "site",
            "sources": "sources", "watch": "watch"}
"""Each command's module in this package: a run imports only the module of its own command
(and what that needs), not every command's (issue 16, item 7). tests/cli/test_startup.py
checks this table against what the modules register."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsmirror {__version__}")
        raise typer.Exit()


def _options(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only warnings, errors and the final summary (also after the command: `newsmirror run -q`)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print details of every step (also after the command)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    out.configure(quiet=quiet, verbose=verbose)


def build_app(modules: Iterable[str] | None = None) -> typer.Typer:
    """The `newsmirror` command with the commands of these modules of this package (all of
    them when None)."""
    built = typer.Typer(
        cls=_Group,
        name="newsmirror",
        help="Mirror news feeds into a git archive of Markdown articles that readers behind a "
        "firewall can open on any git host.",
        no_args_is_help=True,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )
    built.callback()(_options)
    for name in sorted(set(COMMANDS.values()) if modules is None else set(modules)):
        importlib.import_module(f"{__name__}.{name}").register(built)
    return built


def command_modules(args: list[str]) -> set[str] | None:
    """The module a command line needs: that of its command; None (all) for `--help`, no
    command or an unknown one, so that the listing and click's error show every command."""
    for token in args:
        if token == "--":
            return None
        if not token.startswith("-"):
            return {COMMANDS[token]} if token in COMMANDS else None
    return None


def __getattr__(name: str) -> typer.Typer:
    """`newsmirror.cli.app`: the whole command (for tests and embedding), built on first use."""
    if name == "app":
        whole = globals()["app"] = build_app()
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    build_app(command_modules(sys.argv[1:]))(prog_name="newsmirror")
