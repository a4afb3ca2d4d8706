"""The `newsmirror` command. Each module of this package adds its commands through a
`register(app)` function, so a command lives next to nothing but its own kind."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from newsmirror import __version__
from newsmirror.cli.output import out

app = typer.Typer(
    name="newsmirror",
    help="Mirror news feeds into a git archive of Markdown articles that readers behind a "
    "firewall can open on any git host.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsmirror {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only warnings, errors and the final summary."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print details of every step."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    out.configure(quiet=quiet, verbose=verbose)


def _register_all() -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    app()
