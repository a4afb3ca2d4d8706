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

from dataclasses import dataclass
from pathlib import Path

from newsmirror.archive.git import Repo
from newsmirror.config import Config, MirrorConfig
from newsmirror.errors import CONFIG, NewsmirrorError
from newsmirror.publish.mirrors import MirrorOutcome, push_ref
from newsmirror.publish.site import MANIFEST

SITE_BRANCH = "site"
PUBLISHED_REF = "refs/newsmirror/site"
"""The site the primary had at the last publication, fetched from it."""
INDEX_FILE = "newsmirror-site.index"
"""The index the site's files are staged with, in the archive's git folder."""
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


def site_commit(repo: Repo, site_dir: Path, message: str, when: str | None = None) -> tuple[str, int]:
    """A commit without a parent whose tree is the built site in `site_dir` (its manifest
    left out); returns it and its number of files. Written into the archive's objects,
    touching neither its index, nor its work tree, nor any of its refs. `when`: its date
    (the same site, message and date make the same commit, which a host already has)."""
    git_dir = Path(repo.out("rev-parse", "--absolute-git-dir"))
    env = {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(site_dir.resolve()),
           "GIT_INDEX_FILE": str(git_dir / INDEX_FILE)}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    worker = Repo(site_dir, author=repo.author)
    # -f: the archive's ignore rules are not the site's.
    worker.git("add", "-A", "-f", "--", ".", f":(exclude){MANIFEST}", env=env)
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


def publish_site(repo: Repo, config: Config, site_dir: Path) -> Published:
    """Commit the built site in `site_dir` as the branch `site` and force-push it to the
    primary remote and every mirror."""
    primary = primary_target(repo, config)
    fetch_published(repo, primary)
    head = repo.head()
    message = (f"{config.title}: the reading site\n\n"
               + (f"Built from {head}.\n" if head else "")
               + "This branch is replaced at each publication; it keeps no history.\n")
    # Dated as the archive's commit: publishing an unchanged site again sends nothing.
    when = repo.out("log", "-1", "--format=%cI") if head else None
    commit, files = site_commit(repo, site_dir, message, when)
    outcomes = push_ref(repo, config, f"+{commit}:refs/heads/{SITE_BRANCH}", primary=primary)
    return Published(commit, files, outcomes[0], outcomes[1:])
