"""`newsmirror init DIR`: a new archive, ready for its first `newsmirror run`.

It writes a commented newsmirror.toml, a welcome README, a GitHub Actions workflow that
runs the mirror hourly (with the requirements.txt it installs from), and makes one
initial commit of them: `newsmirror run` commits only what it generates (articles,
lists, feeds, README, health), so without this commit the configuration and the
workflow would never reach the git host. Nothing is pushed; the first run pushes.
"""

from __future__ import annotations

import shlex
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from newsmirror import __version__
from newsmirror.cli.output import out
from newsmirror.publish.workflows import mirror_workflow_yaml, request_workflow_yaml

CONFIG_FILE = "newsmirror.toml"
WORKFLOW_FILE = ".github/workflows/newsmirror.yml"
REQUEST_WORKFLOW_FILE = ".github/workflows/archive-request.yml"
REQUIREMENTS_FILE = "requirements.txt"
SCHEDULE_MINUTE = 17
"""Not :00, when most scheduled workflows start and GitHub delays or drops runs."""
LOG_FILE = "newsmirror.log"


@dataclass(frozen=True)
class Starter:
    """What `init` writes, as archive-relative path -> text."""

    files: dict[str, str]
    cron: str


def cron_line(folder: Path, command: str = "newsmirror") -> str:
    """The crontab line that does what the workflow does, on one's own machine."""
    return (f"{SCHEDULE_MINUTE} * * * * cd {shlex.quote(str(folder))} && "
            f"{shlex.quote(command)} run >> {LOG_FILE} 2>&1")


def _toml(text: str) -> str:
    from newsmirror.sources.opml import toml_string

    return toml_string(text)


def _example_sources() -> str:
    """Two explicit [[sources]] tables (the first bundled outlets) for --no-bundled."""
    from newsmirror.sources.bundled import bundled_sources

    tables = []
    for source in bundled_sources()[:2]:
        lines = ["[[sources]]"]
        for key in ("slug", "name", "url", "full_text"):
            if key in source:
                lines.append(f"{key} = {_toml(source[key])}")
        tables.append("\n".join(lines) + "\n")
    return "\n".join(tables)


def render_config(*, bundled: bool, branch: str, remote: str | None) -> str:
    """A complete, commented newsmirror.toml for an archive that is its own folder."""
    from newsmirror.config import DEFAULT_IMAGE_PROXY

    remote_note = (f"# `newsmirror init` set this repository's origin to {remote}.\n"
                   if remote else "")
    if bundled:
        choice = (
            "# Which outlets to mirror: newsmirror's bundled list (VOA, BBC 中文, RFI, DW, …).\n"
            "# A list of slugs takes only some: bundled_sources = [\"voa\", \"bbc\"]. A [[sources]]\n"
            "# table at the end with the same slug replaces the bundled entry.\n"
            "bundled_sources = true\n"
        )
        sources = (
            "# More sources of your own (`newsmirror sources import FILE.opml` appends them):\n"
            "# [[sources]]\n"
            "# slug = \"example\"            # names the folder articles/example/; never rename it\n"
            "# name = \"示例新闻\"\n"
            "# url = \"https://news.example/rss.xml\"\n"
            "# full_text = \"auto\"          # feed | page | auto (fetch the page when the feed\n"
            "#                              # carries only a summary)\n"
        )
    else:
        choice = (
            "# Which outlets to mirror: the [[sources]] tables at the end of this file. Set\n"
            "# bundled_sources = true to add newsmirror's own list of outlets.\n"
            "bundled_sources = false\n"
        )
        sources = (
            "# Sources: one [[sources]] table each. slug names the folder articles/<slug>/ (never\n"
            "# rename it), name is shown in lists and feeds, url is the RSS/Atom feed, and\n"
            "# full_text = feed | page | auto (fetch the page when the feed has only a summary).\n"
            "# `newsmirror sources import FILE.opml` appends more.\n"
            "\n" + _example_sources()
        )
    return f"""\
# newsmirror.toml: the configuration of this news mirror (written by `newsmirror init`).
# Lines starting with '#' are comments; commented-out values are the defaults.

{choice}
[archive]
# The archive is the git repository this file lives in.
path = "."
title = {_toml("新闻镜像 News mirror")}
{remote_note}# Where to push. Leave unset to push to the repository's own "origin" (what `git clone`
# and the GitHub Actions checkout set up, with their credentials).
# remote = "git@github.com:you/news-archive.git"
# remote_name = "origin"
branch = {_toml(branch)}
# Push after each commit (a failed push is retried by the next run).
push = true
# How many articles each source's list page (lists/<slug>.md) shows.
list_size = 300

[fetch]
# Limits, so that one slow or hostile server cannot stall a run.
# timeout = 20.0              # seconds for a whole response
# connect_timeout = 10.0
# max_bytes = 15728640        # largest response read (15 MiB)
# max_redirects = 5
# per_host = 2                # requests at once to one host
# concurrency = 16            # requests at once in all
# user_agent = "newsmirror/{__version__} (+https://github.com/newsmirror/newsmirror; news archive mirror)"

[images]
# Readers behind the firewall often cannot load images from the news sites; this
# rewrites image addresses to go through an image proxy they can reach.
# Placeholders: ${{host}} ${{pathname}} ${{search}} ${{href}} ${{href_ue}} (URL-encoded).
proxy = [{_toml(DEFAULT_IMAGE_PROXY)}]
# Hosts whose images are left as they are:
# exclude = ["images.example.com"]

[defaults]
# Settings every source takes unless its own table says otherwise.
# full_text = "feed"          # feed | page | auto
# sanitize = false            # clean article HTML with an allow-list
# convert = "t2s"             # OpenCC conversion: t2s, s2t, s2tw, s2hk, …
# remove = [".ad", ".share"]  # CSS selectors dropped from fetched pages
# download_images = false

{sources}
# To run this mirror from cron on your own machine instead of GitHub Actions:
# CRON_LINE
"""


def render_requirements() -> str:
    return f"""\
# What the GitHub Actions workflow installs; its pip cache is keyed on this file.
# newsmirror from PyPI, pinned: upgrading is a deliberate edit of this line.
newsmirror=={__version__}
# To install from a git repository instead, replace the line above with (edit the URL):
# newsmirror @ git+https://github.com/newsmirror/newsmirror@v{__version__}
"""


def render_readme(cron: str) -> str:
    return f"""\
# 新闻镜像 News mirror

This repository is a newsmirror archive: Chinese-language news, one Markdown file per
article under `articles/`, a list per source under `lists/`, Atom feeds under `feeds/`.
It is empty until the first run; `newsmirror run` then replaces this README with the
index of sources.

## Running it

- **GitHub Actions**: push this repository to GitHub. `{WORKFLOW_FILE}` runs the mirror
  every hour at minute {SCHEDULE_MINUTE} and pushes what it archived (start it at once from the
  Actions tab with "Run workflow").
- **cron** on your own machine (with git able to push without a password):

  ```
  {cron}
  ```

To ask for a single page to be archived (a WeChat post, a Zhihu article, a news page),
open an issue with the label `archive` and the address in its text: `{REQUEST_WORKFLOW_FILE}`
archives it and replies with a link to the copy.

Sources and settings are in `{CONFIG_FILE}`.
"""


def build_starter(folder: Path, *, bundled: bool, branch: str, remote: str | None,
                  command: str = "newsmirror") -> Starter:
    """Everything `init` writes into `folder` (pure: nothing is touched)."""
    cron = cron_line(folder, command)
    config = render_config(bundled=bundled, branch=branch, remote=remote)
    return Starter(
        files={
            CONFIG_FILE: config.replace("CRON_LINE", cron),
            "README.md": render_readme(cron),
            WORKFLOW_FILE: mirror_workflow_yaml(config=CONFIG_FILE, requirements=REQUIREMENTS_FILE,
                                                minute=SCHEDULE_MINUTE),
            REQUEST_WORKFLOW_FILE: request_workflow_yaml(config=CONFIG_FILE,
                                                         requirements=REQUIREMENTS_FILE),
            REQUIREMENTS_FILE: render_requirements(),
        },
        cron=cron,
    )


def init(
    folder: Path = typer.Argument(..., metavar="DIR", help="The archive folder to create (or an empty clone)."),
    remote: Optional[str] = typer.Option(None, "--remote", help="Set the repository's origin to this URL."),
    bundled: bool = typer.Option(True, "--bundled/--no-bundled",
                                 help="Mirror newsmirror's bundled outlets, or start from two example sources."),
) -> None:
    """Create an archive: a git repository with a commented newsmirror.toml, a README, a
    GitHub Actions workflow running the mirror hourly, and the equivalent cron line.

    The files are committed once (a run commits only what it generates); nothing is
    pushed until the first `newsmirror run`.
    """
    from newsmirror.archive.files import write_atomic
    from newsmirror.archive.store import GITIGNORE
    from newsmirror.config import ConfigError, parse_config
    from newsmirror.publish.git import GitError, Repo

    folder = folder.expanduser().resolve()
    if (folder / CONFIG_FILE).exists():
        raise out.fail(f"{folder / CONFIG_FILE} already exists; this folder is set up "
                       "(edit that file, or choose another folder)", 2)
    if folder.exists() and not folder.is_dir():
        raise out.fail(f"{folder} exists and is not a folder", 2)
    repo = Repo(folder)
    try:
        repo.ensure()
        if remote:
            repo.set_remote("origin", remote)
        branch = repo.branch()
    except GitError as err:
        raise out.fail(str(err), 3) from None

    starter = build_starter(folder, bundled=bundled, branch=branch, remote=remote,
                            command=shutil.which("newsmirror") or "newsmirror")
    try:
        parse_config(tomllib.loads(starter.files[CONFIG_FILE]), file=str(folder / CONFIG_FILE),
                     base=folder)
    except (ConfigError, tomllib.TOMLDecodeError) as err:  # a bug here, never the user's doing
        raise out.fail(f"the starter configuration does not load: {err}", 1) from None
    starter.files.setdefault(".gitignore", GITIGNORE + f"/{LOG_FILE}\n")
    written = []
    for relpath, text in starter.files.items():
        if relpath != CONFIG_FILE and (folder / relpath).exists():
            out.info(f"kept the existing {relpath}")
            continue
        write_atomic(folder / relpath, text.encode("utf-8"))
        written.append(relpath)
    try:
        commit = repo.commit(written, f"Start a newsmirror archive\n\nnewsmirror {__version__}\n")
    except GitError as err:
        raise out.fail(str(err), 3) from None

    print(f"Created the newsmirror archive {folder}")
    for relpath in written:
        print(f"  {relpath}")
    if commit:
        print(f"Committed them as {commit[:10]} (not pushed; the first run pushes).")
    print(f"Next: edit {folder / CONFIG_FILE}, then run `newsmirror run` in {folder}.")
    print("To run it hourly from cron instead of GitHub Actions, add this line (crontab -e):")
    print(starter.cron)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
