"""Yearly shards (`[archive] rotate = "yearly"`): an archive that outgrows one repository.

The rules, in one place (the README's "Beyond one machine" says them for users):

- **Which repository.** The archive's own repository (the *main* one) keeps every article
  it has and stays the home of everything derived: lists, README, feeds, health and the
  index of the shards (`shards.json`, with a table in the README). From the first year
  after the one in which rotation was switched on (`first_year` in the index), each new
  article goes to the shard of the year the run archives it in (China time, the date rule
  of archive/paths.py, by the clock the run is given): `<name>-<YEAR>`, where `<name>` is
  the primary remote's repository name (the archive folder's name without a remote). An
  article's file never moves: one published on 31 December and first seen on 1 January is
  in the new year's shard (under its own month folder, as always).
- **Open and closed.** This year's shard is open; earlier years' are closed and never
  written again. An update of an article a closed shard holds is left out (the run names
  it in its notes, and the catalog remembers the feed's new version so that it is not
  fetched again every hour); articles in the main repository are updated in place as
  before (it is written every run anyway). With `rotate = "none"` again every shard is
  closed and new articles go to the main repository.
- **What goes there.** A shard holds what the year archives that is an article: the feed
  articles, the pages archived on request (`newsmirror archive`) and the images
  downloaded for either (its own `assets/`, as their relative links reach no other
  repository). `newsmirror watch` rewrites an article in the repository holding it,
  never in a closed shard.
- **Pushing.** The shards are pushed before the main repository, so that it never links
  to a file a shard's host lacks; a shard whose primary push fails holds the main
  repository back (jobs/session.py), and the next push sends both.
- **Where the clones are.** `.newsmirror/cache/shards/<YEAR>` inside the archive (ignored
  by its git): cloned (shallow) from the shard's primary remote when missing, as on a fresh
  runner, else created empty. The remotes are the primary remote and each
  `[[archive.mirrors]]` address with `-<YEAR>` after the repository name: a shard is a
  mirror set of its own, pushed like the main one. The repositories must exist on the
  hosts (create `<name>-<YEAR>` before the year starts, or the push fails: exit 3).
- **Credentials.** A shard's primary remote is a repository of its own, which a token
  for the main one may not reach (the workflow's GITHUB_TOKEN reaches only its own
  repository): with `NEWSMIRROR_SHARD_TOKEN` set, every git command of a shard sends it
  to the shard's https primary remote as an http extraheader given in GIT_CONFIG_*
  variables (`shard_credentials`), never written into a file or a clone's config.
- **One catalog** holds the entries of the main repository and of every shard, each
  naming its shard (`ArchivedEntry.shard`), so lists, README, feeds and the site span
  them all.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from newsmirror.addresses import derive_kind, derive_web, suffixed_address
from newsmirror.archive.files import write_atomic
from newsmirror.archive.git import Repo, config_env, git_reason
from newsmirror.archive.paths import ARTICLES_DIR, ASSETS_DIR, REQUESTS_DIR, SHARDS_INDEX
from newsmirror.archive.store import GITIGNORE, Store, commit_into, head_meta, repair, sync_catalog
from newsmirror.dates import china_time

class ShardSettings(Protocol):
    """What the shards need of the configuration (newsmirror.config.Config, which this
    stage must not import: the configuration imports the archive's paths)."""

    @property
    def archive(self) -> Path: ...
    @property
    def remote(self) -> str | None: ...
    @property
    def remote_name(self) -> str: ...
    @property
    def branch(self) -> str: ...
    @property
    def rotate(self) -> str: ...


FORMAT_VERSION = 1
SHARD_FOLDERS = (ARTICLES_DIR, REQUESTS_DIR, ASSETS_DIR)
"""What a shard's repository holds: the files of its articles, of the pages archived on
request into it and of their images."""


def run_year(now_ms: int) -> int:
    """The year (China time) a run at `now_ms` archives new articles in."""
    return china_time(now_ms).year


def archive_name(config: ShardSettings, primary: str | None = None) -> str:
    """`<name>` of the shards' `<name>-<YEAR>`: the primary remote's repository name
    (`primary`, here and below: the archive's remote address when the configuration names
    none, as a clone or the workflow's checkout set it up)."""
    if address := config.remote or primary:
        name = address.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
        if name:
            return name
    return config.archive.name


def shard_name(config: ShardSettings, year: str, primary: str | None = None) -> str:
    return f"{archive_name(config, primary)}-{year}"


def shard_remote(config: ShardSettings, year: str, primary: str | None = None) -> str | None:
    """The shard's primary remote: the archive's, with `-<YEAR>` after the name."""
    address = config.remote or primary
    return suffixed_address(address, f"-{year}") if address else None


SHARD_TOKEN_ENV = "NEWSMIRROR_SHARD_TOKEN"
"""The token (contents: write on the `<name>-<YEAR>` repositories) for the shards'
https primary remotes."""


def shard_credentials(remote: str | None) -> dict[str, str]:
    """The variables that give git the token of SHARD_TOKEN_ENV for the https address
    `remote` only (as actions/checkout gives its token: basic authentication as
    x-access-token); none without a token or for another kind of address."""
    token = os.environ.get(SHARD_TOKEN_ENV, "").strip()
    if not token or not remote or not remote.startswith("https://"):
        return {}
    secret = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return config_env({f"http.{remote}.extraheader": f"AUTHORIZATION: basic {secret}"})


def shard_web(config: ShardSettings, year: str, primary: str | None = None) -> tuple[str, str] | None:
    """(web page, kind of host) of the shard's repository, derived from the primary
    remote (`primary`: the archive's remote address when the configuration names none)
    as the copies' addresses are; None when it cannot be derived."""
    address = config.remote or primary
    if not address:
        return None
    kind = derive_kind(address)
    web = derive_web(suffixed_address(address, f"-{year}"), kind)
    return (web, kind) if web else None


# -- the index ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Index:
    first_year: int
    years: tuple[str, ...]
    """The shards there are, oldest first."""


def read_index(root: Path) -> Index | None:
    """The main repository's shards.json; None when there is none (or it is unreadable)."""
    try:
        document = json.loads((root / SHARDS_INDEX).read_bytes().decode("utf-8"))
        first = document["first_year"]
        years = tuple(str(s["year"]) for s in document["shards"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(first, int) or isinstance(first, bool):
        return None
    return Index(first, tuple(sorted(set(years))))


@dataclass(frozen=True)
class ShardInfo:
    """One shard as the index and the README show it."""

    name: str
    year: int
    articles: int
    web: str | None
    """The shard repository's web page, when it can be derived (`shard_web`)."""


def describe(config: ShardSettings, store: Store, first_year: int | None = None,
             primary: str | None = None) -> tuple[int, int, list[ShardInfo]] | None:
    """(first year, articles of the main repository, each shard oldest first) from the
    index and the catalog; None when the archive has no index (and no `first_year` is
    given to start one)."""
    index = read_index(store.root)
    if index is None and first_year is None:
        return None
    first = index.first_year if index else first_year
    assert first is not None
    counts = store.catalog.shard_counts()
    years = set(index.years if index else ()) | {year for year in counts if year}
    infos = []
    for year in sorted(years):
        web = shard_web(config, year, primary)
        infos.append(ShardInfo(shard_name(config, year, primary), int(year), counts.get(year, 0),
                               web[0] if web else None))
    return first, counts.get("", 0), infos


def write_index(config: ShardSettings, store: Store, first_year: int | None = None,
                primary: str | None = None) -> bool:
    """Rewrite shards.json (`describe`: from which year articles go to shards, the main
    repository's article count and each shard's name, year, count and web page, null when
    unknown). Nothing is written without an index or `first_year`. True when it changed."""
    found = describe(config, store, first_year, primary)
    if found is None:
        return False
    first, main, infos = found
    document = {"version": FORMAT_VERSION, "first_year": first,
                "main": {"name": archive_name(config, primary), "articles": main},
                "shards": [asdict(info) for info in infos]}
    return store.write(SHARDS_INDEX, (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


# -- the clones --------------------------------------------------------------------------
@dataclass
class Shards:
    """The shards of one archive, opened for one command."""

    first_year: int
    open: str | None
    """The year new articles go to; None while they go to the main repository."""
    primary: str | None = None
    """The archive's remote address when the configuration names none (see archive_name)."""
    repos: dict[str, Repo] = field(default_factory=dict)
    """Each shard's clone, by year (a closed shard that could not be cloned is missing)."""
    notes: list[str] = field(default_factory=list)
    """What opening did or could not do, in words."""
    started: list[str] = field(default_factory=list)
    """Files of the main repository opening wrote (the index, on the first yearly run)."""
    tried: set[str] = field(default_factory=set)
    """The shards `take` was asked for."""

    @property
    def target(self) -> str:
        """The shard new articles go to ('' : the main repository)."""
        return self.open or ""

    def closed(self, shard: str) -> bool:
        """Whether a file the shard `shard` holds ('': the main repository) is in one that
        is never written again."""
        return bool(shard) and shard != self.open

    def take(self, config: ShardSettings, store: Store, name: str) -> Repo | None:
        """The clone of the shard of year `name`, cloned when missing (once per command: a
        shard that cannot be had is not asked for again), repaired and cataloged; None
        when it cannot be had. open_shards takes the shards a command needs; a command
        that needs a closed shard's files only now and then (the site, for the pages it
        builds again) takes it when it first does."""
        if name in self.repos or name in self.tried:
            return self.repos.get(name)
        self.tried.add(name)
        repo = _clone(config, store, name, self.primary, create=name == self.open, notes=self.notes)
        if repo is None:
            return None
        self.repos[name] = repo
        self.notes.extend(f"shard {name}: {note}" for note in repair(repo, store.clean_start))
        sync = sync_catalog(repo.root, repo, store.catalog, check_uncommitted=not store.clean_start,
                            shard=name)
        self.notes.extend(f"shard {name}: {note}" for note in sync.notes)
        if store.stale is not None:
            store.stale = None if sync.slugs is None else store.stale | sync.slugs
        store.lost |= sync.lost  # a shard's commits that never reached its remote, as for the main one
        return repo

    def commit(self, store: Store, paths: list[str], message: str) -> str | None:
        """Commit `paths` into the open shard (its whole folders of articles, pages archived
        on request and images after an unclean start, to take in what a killed run left);
        the commit, None when nothing changed."""
        if self.open is None or self.open not in self.repos:
            return None
        if not store.clean_start:
            paths = [folder for folder in SHARD_FOLDERS if (store.shard_root(self.open) / folder).is_dir()]
        paths = [*paths, ".gitignore"]
        return commit_into(self.repos[self.open], store.catalog, paths, message, self.open)


def open_shards(config: ShardSettings, store: Store, now_ms: int, *, start: bool = True,
                files: bool = False) -> Shards | None:
    """Open the shards for a command: the open one created when missing, the closed ones
    the index names cloned when missing and needed (`files`: their articles are to be
    read, as the site does; else only when the catalog does not know them yet, as after a
    lost cache), each repaired after a killed run and its entries brought into the catalog
    (their sources added to `store.stale`). None when the archive has no shards and is not
    to have any; `start`: with rotate = "yearly" and no index yet, write the index that
    starts them (a mirror run does, a command that only reads the archive does not)."""
    index = read_index(store.root)
    if index is None and (config.rotate != "yearly" or not start):
        return None
    year = run_year(now_ms)
    primary = None if config.remote else store.repo.remote_url(config.remote_name)
    shards = Shards(first_year=index.first_year if index else year + 1, open=None, primary=primary)
    if index is None:
        write_index(config, store, shards.first_year, primary)
        shards.started.append(SHARDS_INDEX)
        shards.notes.append(f"yearly shards: from {shards.first_year} on, each year's new articles go to "
                            f"the repository {shard_name(config, str(shards.first_year), primary)}")
    if config.rotate == "yearly" and year >= shards.first_year:
        shards.open = str(year)
    years = set(index.years if index else ()) | ({shards.open} if shards.open else set())
    years |= {y for y in store.catalog.shard_counts() if y}
    for name in sorted(years):
        if name != shards.open and not files and not (store.shard_root(name) / ".git").is_dir() \
                and store.catalog.get_meta(head_meta(name)):
            continue  # closed, cataloged, and no clone here: a run has nothing to do with it
        shards.take(config, store, name)
    return shards


def _clone(config: ShardSettings, store: Store, year: str, primary: str | None, *, create: bool,
           notes: list[str]) -> Repo | None:
    """The clone of one shard: as it is, else cloned from its remote, else (`create`) a new
    repository; None when a closed shard cannot be had (its articles stay as cataloged)."""
    root = store.shard_root(year)
    remote = shard_remote(config, year, primary)
    credentials = shard_credentials(remote)
    repo = Repo(root, env=credentials)
    if not (root / ".git").is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        done = None
        if remote:
            done = Repo(root.parent, env=credentials).git("clone", "-q", "--depth", "1", "--no-tags", "-o",
                                         config.remote_name, remote, str(root), check=False, timeout=1800)
            if done.returncode == 0:
                notes.append(f"shard {year}: cloned {shard_name(config, year, primary)}")
        if (done is None or done.returncode != 0) and not create:
            why = f":\n{git_reason(done)}" if done is not None else " (the archive has no remote)"
            notes.append(f"shard {year}: {shard_name(config, year, primary)} could not be cloned{why}")
            return None
    repo.ensure(config.branch)
    if remote:
        repo.set_remote(config.remote_name, remote)
        fetch = f"remote.{config.remote_name}.fetch"
        if repo.git("config", "--get", fetch, check=False).returncode != 0:
            # A shallow clone of an empty repository is left without one, and then never
            # learns where the remote's branch is.
            repo.git("config", fetch, f"+refs/heads/{config.branch}:refs/remotes/{config.remote_name}/{config.branch}")
    if create and not (root / ".gitignore").exists():
        write_atomic(root / ".gitignore", GITIGNORE.encode())
    return repo
