"""`newsmirror check`: everything a run would use, checked without running."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from newsmirror.cli.output import out, plural, preflight, resolve_config
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION


def check(
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
    no_push: bool = typer.Option(False, "--no-push",
                                 help="Check as for `run --no-push` (no remote needed)."),
) -> None:
    """Check the configuration as `run` does before it starts: every key, OpenCC
    conversion names, CSS selectors, image-proxy placeholders, addresses, timeouts, git
    branch and remote names, site rules, and that there is a remote to push to.

    Touches nothing. Prints every problem with the file, the key and what is wrong, and
    exits 2; exits 0 when a run could start.
    """
    loaded = resolve_config(config, archive)
    preflight(loaded, push=not no_push)
    enabled = sum(1 for s in loaded.sources if s.enabled)
    mirrors = f", {plural(len(loaded.mirrors), 'mirror')}" if loaded.mirrors else ""
    for mirror in loaded.mirrors:
        if mirror.url_env and not os.environ.get(mirror.url_env, "").strip():
            # Not an error: the secret is commonly set only where the workflow runs.
            out.warn(f"{loaded.file}: archive.mirrors ({mirror.name}).url_env: "
                     f"${mirror.url_env} is not set here; this mirror's pushes fail where it "
                     "is not set")
    from newsmirror.checks import site_size_warning

    if warning := site_size_warning(loaded):
        out.warn(warning)
    out.stdout.print(f"{loaded.file}: ok ({plural(enabled, 'source')} to run, archive {loaded.archive}"
                     f"{mirrors})", markup=False)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
