"""`newsmirror init DIR`: a new archive, ready for its first `newsmirror run`.

It writes a commented newsmirror.toml, a welcome README, a GitHub Actions workflow that
runs the mirror hourly (with the requirements.txt it installs from: this very newsmirror,
from its git commit or as a wheel committed into .newsmirror/dist/, and its dependencies
pinned in .newsmirror/constraints.txt), and makes one initial commit of them: `newsmirror run` commits only what it generates (articles,
lists, feeds, README, health), so without this commit the configuration and the
workflow would never reach the git host. Nothing is pushed; the first run pushes.
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from newsmirror.archive.paths import README
from newsmirror.errors import CONFIG, FAILED
from newsmirror import __version__
from newsmirror.cli.output import out
from newsmirror.publish.install import (
    CONSTRAINTS_FILE, DIST_DIR, InstallChoice, InstallError, pinned_dependencies,
    render_constraints, render_requirements, running_install, wheel_of_running,
)
from newsmirror.publish.workflows import MIRROR_WORKFLOW, mirror_workflow_yaml, request_workflow_yaml

CONFIG_FILE = "newsmirror.toml"
WORKFLOW_FILE = f".github/workflows/{MIRROR_WORKFLOW}"
REQUEST_WORKFLOW_FILE = ".github/workflows/archive-request.yml"
REQUIREMENTS_FILE = "requirements.txt"
MIRRORS_DOC = ".github/MIRRORS.md"
SCHEDULE_MINUTE = 17
"""Not :00, when most scheduled workflows start and GitHub delays or drops runs."""
LOG_FILE = "newsmirror.log"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
"""The workflows' Python: the one `init` runs on, which the pinned versions suit."""


@dataclass(frozen=True)
class Starter:
    """What `init` writes, as archive-relative path -> text."""

    files: dict[str, str]
    cron: str
    install: InstallChoice | None = None


def cron_line(folder: Path, command: str = "newsmirror") -> str:
    """The crontab line that does what the workflow does, on one's own machine.
    `command` is shell words (see `running_command`)."""
    return (f"{SCHEDULE_MINUTE} * * * * cd {shlex.quote(str(folder))} && "
            f"{command} run >> {LOG_FILE} 2>&1")


def running_command() -> str:
    """The running newsmirror as cron can start it: cron's PATH is only /usr/bin:/bin, so
    the console script by its absolute path (a virtual environment's bin/ is rarely on
    it), else this Python with `-m newsmirror`."""
    script = Path(sys.argv[0])
    if script.name == "newsmirror" and script.is_file():
        return shlex.quote(str(script.absolute()))
    found = shutil.which("newsmirror")
    if found:
        return shlex.quote(str(Path(found).absolute()))
    return f"{shlex.quote(sys.executable)} -m newsmirror"


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


def _proxies(templates: tuple[str, ...]) -> str:
    """The inside of a TOML list of proxy templates, one a line."""
    return ",\n         ".join(_toml(t) for t in templates)


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

# Copies on other hosts, each pushed on its own after the primary (see
# {MIRRORS_DOC} for the deploy key or token each kind of host needs):
# [[archive.mirrors]]
# name = "codeberg"
# url = "git@codeberg.org:you/news-archive.git"

# Where the reading site is published (the workflow deploys it to GitHub Pages and
# pushes it as the branch `site`), for absolute feed links on it. Default: GitHub Pages'
# address of a GitHub remote (https://you.github.io/news-archive/); elsewhere relative.
# [site]
# url = "https://news.example.org/"

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
# rewrites image addresses to go through an image proxy they can reach (the first;
# the others are fallbacks a reader page retries). This is also the default when the
# key is left out; proxy = [] turns it off.
# Placeholders: ${{host}} ${{pathname}} ${{search}} ${{href}} ${{href_ue}} (URL-encoded).
proxy = [{_proxies(DEFAULT_IMAGE_PROXY)}]
# Hosts whose images are left as they are:
# exclude = ["images.example.com"]

[defaults]
# Settings every source takes unless its own table says otherwise.
# full_text = "feed"          # feed | page | auto
# sanitize = false            # clean article HTML with an allow-list
# convert = "t2s"             # OpenCC conversion: t2s, s2t, s2tw, s2hk, …
# remove = [".ad", ".share"]  # CSS selectors dropped from fetched pages
# download_images = false

[requests]
# Pages readers ask for in issues labelled "archive" (.github/workflows/archive-request.yml).
# Whatever is archived is published under this account: a stranger could ask for abusive
# material and get the account reported and suspended. See newsmirror's README.
# who_may_ask = "collaborators"  # or "everyone" (anyone who can open an issue)
# per_person_per_day = 3         # requests per person in 24 hours (0: no limit; not
#                                # applied to collaborators)
# max_urls = 10                  # addresses taken from one issue
# sites = ["mp.weixin.qq.com", "zhuanlan.zhihu.com"]   # only pages on these sites

{sources}
# To run this mirror from cron on your own machine instead of GitHub Actions:
# CRON_LINE
"""


def render_mirrors_doc() -> str:
    """How to give each kind of host a copy of the archive ([[archive.mirrors]]): the
    deploy key or token each needs and the secret the workflows pass it in."""
    return f"""\
# Mirrors: copies of this archive on other hosts

Every push also goes to each `[[archive.mirrors]]` in `{CONFIG_FILE}`, so that readers
keep a copy they can reach when one host suspends the account or is blocked. Each mirror
is pushed on its own: one that fails is a warning line naming it (and an alert through
`[alerts]` when it starts failing and when it recovers), never a failed run, and it gets
everything it missed with its next successful push. A failing mirror is tried again after
1, 2, 4 … 24 hours. The archive README and the reading site list every mirror with a web
address.

```toml
[[archive.mirrors]]
name = "codeberg"                                  # how it is named in lines and alerts
url = "git@codeberg.org:you/news-archive.git"      # any git address, or a local path
# url_env = "NEWSMIRROR_MIRROR_CODEBERG"           # or: a secret holding the address
# web = "https://codeberg.org/you/news-archive"    # shown to readers (derived for GitHub,
#                                                  # GitLab, Codeberg and kind = "gitea")
# kind = "gitea"                                   # github, gitlab, codeberg, gitea, local, other
# attempts = 2                                     # pushes tried per run
# retry_delay = 10.0                               # seconds between them
```

Create each mirror as an empty repository first. The workflows
(`{WORKFLOW_FILE}`, `{REQUEST_WORKFLOW_FILE}`) pass these repository secrets
(Settings → Secrets and variables → Actions) to newsmirror; a secret that is not set
only fails the mirrors that need it:

| secret | what it holds |
| --- | --- |
| `NEWSMIRROR_SSH_KEY` | the private half of a deploy key, for every mirror with an SSH address (`git@host:…`, `ssh://…`) |
| `NEWSMIRROR_MIRROR_GITHUB`, `_GITLAB`, `_CODEBERG`, `_GITEA` | an HTTPS address with a token in it, for the mirror that names it in `url_env` |
| `NEWSMIRROR_SHARD_TOKEN` | with `[archive] rotate = "yearly"`: a token that can push the repositories `<name>-<YEAR>` (see "Yearly shards" below) |

Make one key for all SSH mirrors, with no passphrase:
`ssh-keygen -t ed25519 -N "" -C newsmirror -f mirror-key`. Put the contents of `mirror-key`
in the secret `NEWSMIRROR_SSH_KEY` and add `mirror-key.pub` to each mirror as below, then
delete both files. Host keys are accepted the first time (`StrictHostKeyChecking=accept-new`).

- **GitHub** (a repository of another account or organisation, so that one suspension does
  not take both): the mirror repository → Settings → Deploy keys → Add deploy key, paste
  `mirror-key.pub`, tick "Allow write access". `url = "git@github.com:other/news-archive.git"`.
  Use SSH for GitHub mirrors: the checkout's own GitHub credentials would be sent with an
  HTTPS address instead of a token of yours.
- **GitLab**: the project → Settings → Repository → Deploy keys, add `mirror-key.pub` with
  "Grant write permissions to this key"; `url = "git@gitlab.com:you/news-archive.git"`. Or a
  project access token (role Developer or more, scope `write_repository`): secret
  `NEWSMIRROR_MIRROR_GITLAB` = `https://oauth2:TOKEN@gitlab.com/you/news-archive.git`,
  `url_env = "NEWSMIRROR_MIRROR_GITLAB"`, `web = "https://gitlab.com/you/news-archive"`.
- **Codeberg**: the repository → Settings → Deploy keys → Add key, paste `mirror-key.pub`,
  tick "Enable write access"; `url = "git@codeberg.org:you/news-archive.git"`. Or an access
  token with the `write:repository` scope (User settings → Applications): secret
  `NEWSMIRROR_MIRROR_CODEBERG` = `https://you:TOKEN@codeberg.org/you/news-archive.git`,
  `url_env = "NEWSMIRROR_MIRROR_CODEBERG"`, `web = "https://codeberg.org/you/news-archive"`.
- **Gitea / Forgejo** (self-hosted): as Codeberg, with `kind = "gitea"` (so readers get its
  web and feed addresses): a deploy key with write access and
  `url = "git@git.example.org:you/news-archive.git"` (or `ssh://git@git.example.org:2222/you/news-archive.git`
  for another port), or a token in secret `NEWSMIRROR_MIRROR_GITEA` with `url_env`.
- **A local path** (`url = "/srv/backup/news-archive.git"`, a bare repository made with
  `git init --bare`): for a mirror run from cron on your own machine, a disk another
  machine serves, or a USB disk. Nothing to set up; on GitHub Actions it would vanish
  with the runner.

Never write a token into `{CONFIG_FILE}` (newsmirror refuses an address with a password
in it): in a public repository anyone could push with it.

## Yearly shards

With `[archive] rotate = "yearly"` each year's new articles (and pages archived on
request, and their downloaded images) go to a repository of their own, `<name>-<YEAR>`
(`<name>`: this repository's), pushed before this one; this repository keeps the lists,
README, feeds and the index `shards.json`. The workflows' own token reaches only this
repository, so:

1. **Create `<name>-<YEAR>` before the year starts** (China time), empty, next to this
   repository, and `<mirror>-<YEAR>` on each mirror's host beside the mirror. A push to a
   repository that does not exist fails: the run exits 3 and the shard's commits wait in
   its clone, which the cache keeps. Until the shard's host has them,
   this repository is held back too (see "When a shard's push fails").
2. **The token**: on GitHub a fine-grained personal access token (Settings → Developer
   settings → Personal access tokens → Fine-grained tokens) of the account that owns the
   shard repositories, with Repository access "All repositories" (or "Only select
   repositories" naming each `<name>-<YEAR>`: then add next year's when you create it) and
   the permission Contents: Read and write; put it in the secret `NEWSMIRROR_SHARD_TOKEN`.
   newsmirror sends it only to the shards' own HTTPS addresses (derived from this
   repository's), as an HTTP header given to git in its environment: it is never printed,
   written into a file, or kept in a clone's configuration or the cache. A token expires:
   renew it before it does, or the shards' pushes fail (exit 3). Mirrors of a shard use the
   mirror's own credentials (an SSH deploy key must be added to each `<mirror>-<YEAR>` too).
3. **Their sites**: a shard's articles are built into the site like all others. To serve a
   shard's own site from its repository, set its Pages to "Deploy from a branch", branch
   `site`, folder `/ (root)`.

The workflow's cache keeps the open shard's clone (restoring it is several times faster
than cloning it again) and never a closed shard's: a run leaves the closed shards alone
unless a lost cache makes it catalog them again.

### When a shard's push fails

A run whose open shard could not be pushed does not push this repository either, nor
its mirrors (their lists would link to files the shard's host does not have); the run
exits 3. Fix what the error names (create the repository, renew the token). The next
run pushes the shard's commits, which the cache kept in its clone, then this repository
with its lists made again; were the cache lost, it archives those articles again. So
nothing is lost, and no list ever links to a missing file.

## The reading site

After each run, unless the site this repository serves is built from the archive as it
is, `{WORKFLOW_FILE}` builds the reading site (`newsmirror site --publish --if-changed`;
pages archived on request start that workflow at once) and pushes it as the branch `site` to this repository and
every mirror: one commit of static files, replaced each time (no history, so the
repository does not grow from it). A host that serves a site from a branch can serve
it: Codeberg Pages at `https://OWNER.codeberg.page/REPO/@site/`, or GitHub Pages set to
"Deploy from a branch" on a mirror; elsewhere a clone of the branch is the whole site.
On GitHub the job `pages` deploys the same files with the official Pages actions: turn
it on once under Settings → Pages → Build and deployment → Source: "GitHub Actions"
(until then that job fails). Set `[site] url` in `{CONFIG_FILE}` when the site lives
elsewhere than `https://OWNER.github.io/REPO/`, so that its feed links are right.

The workflow checks out one commit, not the history. A mirror that is new (empty) or
further behind than that cannot take a shallow history: the first run that meets it
fetches the history once (`git fetch --unshallow`) and pushes everything.
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
  Actions tab with "Run workflow"). It opens an issue labelled `source-health` for each
  source that is failing, stale or dead, and closes it when the source recovers.
- **cron** on your own machine (with git able to push without a password):

  ```
  {cron}
  ```

To ask for a single page to be archived (a WeChat post, a Zhihu article, a news page),
open an issue with the label `archive` and the address in its text: `{REQUEST_WORKFLOW_FILE}`
archives it and replies with a link to the copy (by default only the repository's
collaborators may ask: see `[requests]` in `{CONFIG_FILE}`).

`requirements.txt` installs exactly the newsmirror that created this archive (and
`{CONSTRAINTS_FILE}` its dependencies' versions); `newsmirror init --update-install .`
points them at the newsmirror you run now.

To keep copies on other hosts (GitHub under another account, GitLab, Codeberg, a
Gitea of your own, a local disk), add `[[archive.mirrors]]` to `{CONFIG_FILE}`: every
push then goes to each of them. `{MIRRORS_DOC}` says how to set up the deploy key or
token for each kind of host (this README is replaced by the first run; that file stays).

Sources and settings are in `{CONFIG_FILE}`.
"""


def install_files(install: InstallChoice) -> dict[str, str]:
    """The workflows and what they install from (the wheel itself is written apart)."""
    return {
        WORKFLOW_FILE: mirror_workflow_yaml(config=CONFIG_FILE, requirements=REQUIREMENTS_FILE,
                                            minute=SCHEDULE_MINUTE, python=PYTHON,
                                            constraints=CONSTRAINTS_FILE),
        REQUEST_WORKFLOW_FILE: request_workflow_yaml(config=CONFIG_FILE, python=PYTHON,
                                                     requirements=REQUIREMENTS_FILE,
                                                     constraints=CONSTRAINTS_FILE),
        REQUIREMENTS_FILE: render_requirements(install),
        CONSTRAINTS_FILE: render_constraints(pinned_dependencies()),
    }


def build_starter(folder: Path, *, bundled: bool, branch: str, remote: str | None,
                  command: str = "newsmirror", install: InstallChoice | None = None) -> Starter:
    """Everything `init` writes into `folder` but the wheel (pure: nothing is touched)."""
    install = install or running_install()
    cron = cron_line(folder, command)
    config = render_config(bundled=bundled, branch=branch, remote=remote)
    return Starter(
        files={
            CONFIG_FILE: config.replace("CRON_LINE", cron),
            README: render_readme(cron),
            MIRRORS_DOC: render_mirrors_doc(),
            **install_files(install),
        },
        cron=cron,
        install=install,
    )


def write_install(folder: Path, install: InstallChoice) -> list[str]:
    """Build the wheel `install` names into `folder` (removing older ones); the
    archive-relative paths written. InstallError when the wheel cannot be written."""
    dist = folder / DIST_DIR
    try:
        for old in dist.glob("*.whl") if dist.is_dir() else ():
            old.unlink()
        if not install.wheel:
            return [DIST_DIR] if dist.is_dir() else []
        wheel = wheel_of_running(dist)
    except OSError as err:
        raise InstallError(str(err)) from err
    return [wheel.relative_to(folder).as_posix()]


def update_install(folder: Path) -> None:
    """`init --update-install DIR`: point an existing archive's workflows at the
    newsmirror running now, and commit that."""
    from newsmirror.archive.files import write_atomic
    from newsmirror.archive.git import Repo
    from newsmirror.archive.store import archive_lock, commit_message

    if not (folder / CONFIG_FILE).is_file():
        raise out.fail(f"{folder} has no {CONFIG_FILE}: not a newsmirror archive "
                       "(create one with `newsmirror init DIR`)", CONFIG)
    install = running_install()
    # Under the archive's lock: a run committing at the same time would otherwise race
    # this commit in git's index.
    with archive_lock(folder):
        written = write_install(folder, install)
        for relpath, text in install_files(install).items():
            write_atomic(folder / relpath, text.encode("utf-8"))
            written.append(relpath)
        commit = Repo(folder).commit(written, commit_message(
            f"Install newsmirror {__version__} in the workflows", [f"{install.why}."]))
    print(f"newsmirror for the workflows: {install.why}.")
    print(f"Committed as {commit[:10]} (not pushed)." if commit else "Nothing changed.")


def init(
    folder: Path = typer.Argument(..., metavar="DIR", help="The archive folder to create (or an empty clone)."),
    remote: Optional[str] = typer.Option(None, "--remote", help="Set the repository's origin to this URL."),
    bundled: bool = typer.Option(True, "--bundled/--no-bundled",
                                 help="Mirror newsmirror's bundled outlets, or start from two example sources."),
    update: bool = typer.Option(False, "--update-install",
                                help="In an existing archive: make the workflows install the "
                                     "newsmirror running now (and commit that)."),
) -> None:
    """Create an archive: a git repository with a commented newsmirror.toml, a README, a
    GitHub Actions workflow running the mirror hourly, and the equivalent cron line.

    The files are committed once (a run commits only what it generates); nothing is
    pushed until the first `newsmirror run`. The workflows install exactly this
    newsmirror: the git commit pip installed it from, or else a wheel of it that `init`
    commits into .newsmirror/dist/ (it says which).
    """
    from newsmirror.archive.files import write_atomic
    from newsmirror.archive.store import GITIGNORE, commit_message
    from newsmirror.config import ConfigError, parse_config
    from newsmirror.archive.git import Repo

    folder = folder.expanduser().resolve()
    if update:
        return update_install(folder)
    if (folder / CONFIG_FILE).exists():
        raise out.fail(f"{folder / CONFIG_FILE} already exists; this folder is set up "
                       "(edit that file, or choose another folder)", CONFIG)
    if folder.exists() and not folder.is_dir():
        raise out.fail(f"{folder} exists and is not a folder", CONFIG)
    repo = Repo(folder)
    repo.ensure()
    if remote:
        repo.set_remote("origin", remote)
    branch = repo.branch()
    install = running_install()
    starter = build_starter(folder, bundled=bundled, branch=branch, remote=remote,
                            command=running_command(), install=install)
    try:
        parse_config(tomllib.loads(starter.files[CONFIG_FILE]), file=str(folder / CONFIG_FILE),
                     base=folder)
    except (ConfigError, tomllib.TOMLDecodeError) as err:  # a bug here, never the user's doing
        raise out.fail(f"the starter configuration does not load: {err}", FAILED) from None
    starter.files.setdefault(".gitignore", GITIGNORE + f"/{LOG_FILE}\n")
    written = []
    for relpath, text in starter.files.items():
        if relpath != CONFIG_FILE and (folder / relpath).exists():
            out.info(f"kept the existing {relpath}")
            continue
        write_atomic(folder / relpath, text.encode("utf-8"))
        written.append(relpath)
    if REQUIREMENTS_FILE in written:
        written += write_install(folder, install)
    commit = repo.commit(written, commit_message("Start a newsmirror archive"))

    print(f"Created the newsmirror archive {folder}")
    for relpath in written:
        print(f"  {relpath}")
    if REQUIREMENTS_FILE in written:
        print(f"newsmirror for the workflows: {install.why}.")
    if commit:
        print(f"Committed them as {commit[:10]} (not pushed; the first run pushes).")
    print(f"Next: edit {folder / CONFIG_FILE}, then run `newsmirror run` in {folder}.")
    print("To run it hourly from cron instead of GitHub Actions, add this line (crontab -e):")
    print(starter.cron)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
