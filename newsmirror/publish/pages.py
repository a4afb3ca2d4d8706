"""Publishing the reading site as the branch `site`: one commit of the built site's files
and nothing else, with no parent, force-pushed to the primary remote and to every mirror
(for hosts that serve a site from a branch: Codeberg, Gitea, GitLab, GitHub).

The branch keeps no history: each publication replaces the one before, so the archive's
repository does not grow by a site per hour (a host drops the old commit's files at its
next clean-up). The pushes are the mirrors' own (`mirrors.push_ref`): each host is pushed
on its own, and one failing costs its warning, never the others. The primary failing is
the caller's failure.

The files are staged with an index kept in the archive's .git, so a publication hashes
only the files that changed since the last one. What a host is sent is only what changed
too, from a shallow clone (the workflow's): the site the primary has is fetched first
(`refs/newsmirror/site`), and git, pushing from a shallow clone, leaves out every file
of it. From a full clone git compares commits, and a parentless commit shares none: each
host is sent the whole site again after any change (bench/site_publish.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from newsmirror import __version__
from newsmirror.archive.files import write_atomic
from newsmirror.archive.git import Repo
from newsmirror.archive.paths import SHARD_SITES_PUBLISHED, SITE_PUBLISHED, SITE_STATE_COPY
from newsmirror.config import Config, MirrorConfig
from newsmirror.errors import CONFIG, NewsmirrorError
from newsmirror.publish.mirrors import MirrorOutcome, push_ref
from newsmirror.publish.site import MANIFEST

SITE_BRANCH = "site"
PUBLISHED_REF = "refs/newsmirror/site"
"""The site the primary had at the last publication, fetched from it."""
INDEX_FILE = "newsmirror-site.index"
"""The index the site's files are staged with, in the archive's git folder."""
PUBLISHED_VERSION = 2
"""What the published sites are made of; a publication recorded under another version is
built and published again (a closed shard's site too). 2: each shard's site carries the
search index of its own articles, which the main site's no longer holds."""
PRIMARY_ATTEMPTS = 2
PRIMARY_RETRY_DELAY = 5.0


class PublishError(NewsmirrorError, RuntimeError):
    """The site cannot be published at all (no primary remote to publish to)."""

    exit_code = CONFIG


@dataclass(frozen=True)
class Published:
    commit: str
    files: int
    primary: MirrorOutcome
    mirrors: list[MirrorOutcome]


def _site_worktree(repo: Repo, site_dir: Path) -> tuple[Repo, dict[str, str]]:
    """git in `site_dir` on the archive's objects, with an index of its own (the site's
    files as last committed or restored): the worker and its environment."""
    git_dir = Path(repo.out("rev-parse", "--absolute-git-dir"))
    env = {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(site_dir.resolve()),
           "GIT_INDEX_FILE": str(git_dir / INDEX_FILE)}
    return Repo(site_dir, author=repo.author), env


def site_commit(repo: Repo, site_dir: Path, message: str, when: str | None = None) -> tuple[str, int]:
    """A commit without a parent whose tree is the built site in `site_dir` (its manifest
    left out); returns it and its number of files. Written into the archive's objects,
    touching neither its index, nor its work tree, nor any of its refs. `when`: its date
    (the same site, message and date make the same commit, which a host already has)."""
    worker, env = _site_worktree(repo, site_dir)
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    # -f: the archive's ignore rules are not the site's.
    worker.git("add", "-A", "-f", "--", ".", f":(exclude){MANIFEST}*", env=env)
    tree = worker.git("write-tree", env=env).stdout.decode().strip()
    files = worker.git("ls-files", "-z", env=env).stdout.count(b"\0")
    commit = worker.git("commit-tree", tree, "-F", "-", input=message.encode("utf-8"),
                        env=env).stdout.decode().strip()
    return commit, files


def primary_target(repo: Repo, config: Config) -> MirrorConfig:
    """The primary remote as a push target: the archive's remote of that name (a clone's
    or the workflow's checkout, with its credentials), else `[archive] remote`."""
    if repo.has_remote(config.remote_name):
        url = config.remote_name
    elif config.remote:
        url = config.remote
    else:
        raise PublishError(f"nowhere to publish the site: the archive has no git remote named "
                           f"{config.remote_name!r} and [archive] remote is not set in "
                           f"{config.file}")
    return MirrorConfig(name=config.remote_name, url=url, attempts=PRIMARY_ATTEMPTS,
                        retry_delay=PRIMARY_RETRY_DELAY)


def fetch_published(repo: Repo, primary: MirrorConfig) -> bool:
    """Fetch the site the primary has, so that a push from a shallow clone leaves out
    what a host has already (nothing when the primary has none or cannot be reached:
    the push then sends the whole site). True when it was fetched. The branch is one
    commit without a parent: fetching it never deepens nor shallows the clone."""
    done = repo.git("fetch", "-q", "--no-tags", primary.url or "",
                    f"+refs/heads/{SITE_BRANCH}:{PUBLISHED_REF}", check=False, timeout=1800)
    return done.returncode == 0


def _inputs(repo: Repo, config: Config, head: str | None = None) -> dict[str, str | int | None]:
    """What a built site depends on: the archive's commit (`head`, else `repo`'s HEAD),
    the configuration's bytes and newsmirror's version."""
    try:
        settings = hashlib.sha256(Path(config.file).read_bytes()).hexdigest()
    except OSError:
        settings = None
    return {"version": PUBLISHED_VERSION, "head": head or repo.head(), "config": settings,
            "newsmirror": __version__}


def remember_shard_site(main: Repo, year: str, shard: Repo, config: Config) -> None:
    """Remember, in the cache of the main repository `main`, that the primary of the shard
    `year` took the site built from `shard` as it is now (`config`: the shard's)."""
    state = main.root / SHARD_SITES_PUBLISHED
    write_atomic(state, json.dumps({**_read_state(state), year: _inputs(shard, config)},
                                   indent=1, sort_keys=True).encode())


def shard_site_published(main: Repo, year: str, head: str | None, config: Config) -> bool:
    """Whether the site of the shard `year` was published, as remember_shard_site says,
    built from its commit `head` (as the catalog knows it) with this configuration and
    newsmirror: a closed shard's site then needs neither its clone nor a build."""
    return bool(head) and _read_state(main.root / SHARD_SITES_PUBLISHED).get(year) == _inputs(main, config, head)


def _read_state(state: Path) -> dict:
    """A publication state file of the local cache as a JSON object; {} when it is
    missing or unreadable (which only means one more publication)."""
    try:
        found = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def current_publication(repo: Repo, config: Config) -> str | None:
    """The commit of the branch `site` the primary serves, when the last publication from
    here was built from the archive as it is now (its commit, configuration and newsmirror
    version) and the primary still has exactly that commit; None when the site must be
    built and published again (it changed, the last publication failed, the cache is new,
    or the primary cannot be asked)."""
    state = _read_state(repo.root / SITE_PUBLISHED)
    inputs = _inputs(repo, config)
    if not isinstance(state.get("commit"), str) \
            or {k: state.get(k) for k in inputs} != inputs:
        return None
    primary = primary_target(repo, config)
    asked = repo.git("ls-remote", primary.url or "", f"refs/heads/{SITE_BRANCH}", check=False,
                     timeout=300)
    served = asked.stdout.decode("ascii", "replace").split()[:1] if asked.returncode == 0 else []
    return state["commit"] if served == [state["commit"]] else None


def publish_site(repo: Repo, config: Config, site_dir: Path) -> Published:
    """Commit the built site in `site_dir` as the branch `site` and force-push it to the
    primary remote and every mirror. When the primary took it, what it was built from is
    remembered for `current_publication`."""
    primary = primary_target(repo, config)
    fetch_published(repo, primary)
    head = repo.head()
    message = (f"{config.title}: the reading site\n\n"
               + (f"Built from {head}.\n" if head else "")
               + "This branch is replaced at each publication; it keeps no history.\n")
    # Dated as the archive's commit: publishing an unchanged site again sends nothing.
    when = repo.out("log", "-1", "--format=%cI") if head else None
    commit, files = site_commit(repo, site_dir, message, when)
    inputs = _inputs(repo, config)
    outcomes = push_ref(repo, config, f"+{commit}:refs/heads/{SITE_BRANCH}", primary=primary)
    state = repo.root / SITE_PUBLISHED
    copy = repo.root / SITE_STATE_COPY
    if outcomes[0].ok:
        state.parent.mkdir(parents=True, exist_ok=True)
        if (site_dir / MANIFEST).is_file():  # what the next build on a fresh runner starts from
            partial = copy.with_name(copy.name + ".partial")
            shutil.copyfile(site_dir / MANIFEST, partial)
            os.replace(partial, copy)
        else:
            copy.unlink(missing_ok=True)
        write_atomic(state, json.dumps({**inputs, "commit": commit}, indent=1).encode())
    else:
        state.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)
    return Published(commit, files, outcomes[0], outcomes[1:])


def restore_published(repo: Repo, config: Config, site_dir: Path) -> str | None:
    """Put the site the primary serves back into `site_dir`, a folder not built into yet
    (the workflow's runner is new each hour), with the state it was built from, so that
    the build that follows writes only what changed since: the commit restored. None, and
    the build is a full one, when the folder is not empty, the local cache has no state of
    the last publication from here, or the primary serves another commit (or cannot be
    asked)."""
    if site_dir.exists() and any(site_dir.iterdir()):
        return None
    commit = _read_state(repo.root / SITE_PUBLISHED).get("commit")
    try:
        primary = primary_target(repo, config)
    except PublishError:
        return None
    copy = repo.root / SITE_STATE_COPY
    if not isinstance(commit, str) or not copy.is_file() or not fetch_published(repo, primary):
        return None
    if repo.git("rev-parse", "-q", "--verify", f"{PUBLISHED_REF}^{{commit}}",
                check=False).stdout.decode().strip() != commit:
        return None
    site_dir.mkdir(parents=True, exist_ok=True)
    worker, env = _site_worktree(repo, site_dir)
    # Into the index site_commit adds to, so that its next `add` finds these files as they are.
    if worker.git("read-tree", commit, check=False, env=env).returncode != 0 \
            or worker.git("checkout-index", "-a", "-f", check=False, env=env).returncode != 0:
        shutil.rmtree(site_dir)
        return None
    shutil.copyfile(copy, site_dir / MANIFEST)
    return commit
