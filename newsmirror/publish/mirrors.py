"""Mirrors: other git repositories (`[[archive.mirrors]]`) that receive every push, so
that readers keep a copy they can reach when one host suspends the account or is blocked.

Each mirror is pushed on its own, after the primary remote, whatever became of the
primary: with its own attempts in a run, its own backoff across runs (1, 2, 4 … 24 hours,
as a failing source) and its own state. One that fails or refuses (a hook, a read-only
repository, a repository that is gone) costs a warning line naming it, never the run and
never the other mirrors. It gets everything it missed with its next successful push.

Where the state lives: as the sources' health (see sources/health.py), twice, in one
format: `.newsmirror/cache/mirrors.json` is written after every push, and the committed
`.newsmirror/mirrors.json` is a snapshot of it, rewritten by a mirror run only when a
mirror started or stopped failing or an alert went out (and with any commit). A run
starts from whichever of the two a later run wrote.

Shallow clones (the workflow checks out one commit): a mirror that is behind by more than
the clone holds, or empty, cannot be sent the commits it lacks. Only then is the clone
deepened from the primary remote (`git fetch --unshallow`) and the push tried again, so
an ordinary hour never fetches the history.

A mirror that diverged: on an ephemeral runner (the workflow), a run whose primary push
failed still pushes its commits to the mirrors; the next runner clones the primary, which
lacks them, and its commits are no longer a fast-forward for those mirrors, hour after
hour. When the primary has our HEAD and a mirror refuses it, the mirror's branch is
fetched: when every file its own commits wrote was written by the primary's since too
(the next runner archived the same articles again; lists, feeds and state files are
regenerated anyway; a file only its commits rewrote, as a watch does, is not ours),
its branch is replaced by the primary's, guarded by a lease on what it had, and the
outcome says so. When they hold files the primary lacks, nothing is replaced: the
failure names them, to be taken in by hand.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newsmirror.config import Config, MirrorConfig
from newsmirror.addresses import derive_kind, derive_web, host_path
from newsmirror.archive.git import Repo, git_reason
from newsmirror.archive.paths import (ALL_FEED, CACHED_MIRRORS_FILE, FEEDS_DIR, LISTS_DIR, MIRRORS_FILE, README,
                                      SHARDS_INDEX, STATE_DIR)
from newsmirror.dates import utc_minutes
from newsmirror.models import ArchivedEntry
from newsmirror.publish.links import quote_path
from newsmirror.sources.health import backoff_ms
from newsmirror.addresses import suffixed_address
from newsmirror.archive.shards import shard_remote, shard_web
from newsmirror.archive.files import write_atomic

FORMAT_VERSION = 1

SSH_KEY_ENV = "NEWSMIRROR_SSH_KEY"
"""A private SSH key (a deploy key with write access on each SSH mirror), for pushes to
mirrors; the workflow passes the secret of this name."""
URL_SECRETS = {"github": "NEWSMIRROR_MIRROR_GITHUB", "gitlab": "NEWSMIRROR_MIRROR_GITLAB",
               "codeberg": "NEWSMIRROR_MIRROR_CODEBERG", "gitea": "NEWSMIRROR_MIRROR_GITEA"}
"""Secrets the workflow passes, one per kind of host, for mirrors whose address holds a
token (`url_env`)."""

_SHALLOW_SIGNS = ("shallow update not allowed", "(fetch first)", "non-fast-forward")
_REFUSED_SIGNS = ("(fetch first)", "non-fast-forward")
_DERIVED = (f"{LISTS_DIR}/", f"{FEEDS_DIR}/", f"{STATE_DIR}/", README, SHARDS_INDEX, ".gitignore")
"""Files every commit regenerates: a mirror's own version of them is never worth keeping."""
_THEIRS = "refs/newsmirror/mirror-head"


# -- addresses ---------------------------------------------------------------------------
def pages_address(url: str) -> str | None:
    """Where GitHub Pages serves the site of the repository at the git address `url`
    (`https://OWNER.github.io/REPO/`; a user or organisation site, the repository
    `OWNER.github.io`, at `https://OWNER.github.io/`); None when it is not on GitHub."""
    where = host_path(url)
    if where is None or derive_kind(url) != "github":
        return None
    owner, _, name = where[1].removesuffix(".git").partition("/")
    if not owner or not name or "/" in name:
        return None
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if name.lower() == host else f"https://{host}/{name}/"


def redact(url: str) -> str:
    """An address fit to print: without any user name, password or token in it."""
    return re.sub(r"(?<=://)[^/@]*@", "", url)


def site_url(config: Config, primary: str | None = None) -> str | None:
    """Where the site is published, ending in '/': `[site] url`, else GitHub Pages'
    address for a primary remote on GitHub (`primary`: the archive's remote address when
    the configuration names none); None when unknown (the site's links stay relative)."""
    if config.site_address:
        return config.site_address
    address = config.remote or primary
    return pages_address(address) if address else None


def shard_site_url(config: Config, year: str, primary: str | None = None) -> str | None:
    """Where the site of the shard `<name>-<YEAR>` is published, ending in '/', derived
    as `site_url` is with `-<YEAR>`: `[site] url` with `-<YEAR>` after its last folder
    (`https://example.org/news/` -> `https://example.org/news-2027/`), else GitHub Pages'
    address of the shard's primary remote. None when neither gives one (a `[site] url`
    at the root of its host and a primary remote elsewhere than GitHub): the shard's
    articles then stay on the main site, which cannot link to an unknown address."""
    if config.site_address:
        parts = urlsplit(config.site_address)
        folder = parts.path.rstrip("/")
        if folder:
            return urlunsplit(parts._replace(path=f"{folder}-{year}/"))
    address = shard_remote(config, year, primary)
    return pages_address(address) if address else None


def shard_config(config: Config, year: str, primary: str | None = None) -> Config:
    """The configuration a shard is pushed with (its files and its site): every address
    (the primary remote's and each mirror's, one held in a secret too) with `-<YEAR>`
    after the repository name, and each mirror named `<mirror>-<YEAR>` (its state apart
    from the main one's)."""
    mirrors = []
    for mirror in config.mirrors:
        url = mirror.url or os.environ.get(mirror.url_env or "", "").strip() or None
        mirrors.append(replace(
            mirror, name=f"{mirror.name}-{year}",
            url=suffixed_address(url, f"-{year}") if url else None,
            url_env=None if url else mirror.url_env,
            web=suffixed_address(mirror.web, f"-{year}") if mirror.web else None))
    return replace(config, remote=shard_remote(config, year, primary), mirrors=tuple(mirrors))


def raw_address(web: str, kind: str, branch: str, path: str, *, shown: bool = False) -> str | None:
    """Where a host serves a file of the repository as it is (a feed, for feed readers),
    or (`shown`) the page that shows it (an article, for readers)."""
    if kind == "github":
        return f"{web}/{'blob' if shown else 'raw'}/{branch}/{path}"
    if kind == "gitlab":
        return f"{web}/-/{'blob' if shown else 'raw'}/{branch}/{path}"
    if kind in ("codeberg", "gitea"):
        return f"{web}/{'src' if shown else 'raw'}/branch/{branch}/{path}"
    return None


def shard_file_address(config: Config, primary: str | None = None) -> Callable[[ArchivedEntry], str | None]:
    """Where readers open the file of an entry a shard holds: the page that shows it on
    the shard's host, derived from the primary remote (`primary` as for `reader_copies`).
    None for the archive's own files and where the shard's web address cannot be derived
    (a link relative to this repository cannot reach another)."""
    webs: dict[str, tuple[str, str] | None] = {}

    def where(entry: ArchivedEntry) -> str | None:
        if not entry.shard:
            return None
        if entry.shard not in webs:
            webs[entry.shard] = shard_web(config, entry.shard, primary)
        found = webs[entry.shard]
        return raw_address(found[0], found[1], config.branch, quote_path(entry.path),
                           shown=True) if found else None

    return where


@dataclass(frozen=True)
class Copy:
    """One place readers can find the archive."""

    name: str
    web: str
    kind: str
    feed: str | None
    """The combined Atom feed (feeds/all.xml) as that host serves it."""


def reader_copies(config: Config, primary: str | None = None) -> list[Copy]:
    """Every copy of the archive with a web address: the primary remote (when its address
    shows one) and each mirror, in the configuration's order. `primary`: the primary's
    address when the configuration names none (the archive's own remote, as a clone or
    the workflow's checkout set it up)."""
    copies: list[Copy] = []
    address = config.remote or primary
    if address:
        kind = derive_kind(address)
        web = derive_web(address, kind)
        if web:
            copies.append(Copy(config.remote_name, web, kind,
                               raw_address(web, kind, config.branch, ALL_FEED)))
    for mirror in config.mirrors:
        if mirror.web and all(c.web != mirror.web for c in copies):
            copies.append(Copy(mirror.name, mirror.web, mirror.kind,
                               raw_address(mirror.web, mirror.kind, config.branch, ALL_FEED)))
    return copies


def remote_address(repo: Repo, name: str) -> str | None:
    """The address of the archive's remote `name` (None when it has none)."""
    return repo.remote_url(name)


# -- state -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MirrorState:
    """What we remember about one mirror between runs (times in ms since the epoch, UTC)."""

    failures: int = 0
    last_error: str | None = None
    last_attempt_ms: int | None = None
    last_success_ms: int | None = None
    next_attempt_ms: int | None = None
    failing_since_ms: int | None = None
    pushed: str | None = None
    """The commit the mirror last accepted."""
    state: str = "ok"
    """ok or failing (from the [alerts] after_failures-th failure until a push succeeds)."""
    alerted: str = "ok"
    """The last state an alert was delivered for."""


STATES = ("ok", "failing")


def durable(m: MirrorState) -> tuple[str, str]:
    """What is worth a commit when it changes (the rest changes every push)."""
    return m.state, m.alerted


def dump_states(states: dict[str, MirrorState], *, written_ms: int) -> bytes:
    document = {"version": FORMAT_VERSION, "written_ms": written_ms,
                "mirrors": {name: asdict(states[name]) for name in sorted(states)}}
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def read_states(path: Path) -> tuple[dict[str, MirrorState], int, list[str]]:
    """What can be read of a mirrors file: the states, when it was written and one line per
    problem (a field that does not fit takes its default; nothing raises)."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return {}, -1, []
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        return {}, -1, [f"{path}: cannot be read ({err}); the mirrors' state starts fresh"]
    if not isinstance(document, dict) or not isinstance(document.get("mirrors"), dict):
        return {}, -1, [f"{path}: not a mirrors file; the mirrors' state starts fresh"]
    written = document.get("written_ms")
    written = written if isinstance(written, int) and not isinstance(written, bool) else 0
    problems: list[str] = []
    states = {}
    kinds = {f.name: f.type for f in fields(MirrorState)}
    for name, entry in document["mirrors"].items():
        if not isinstance(entry, dict):
            problems.append(f"{path}: mirror {name!r} is not an object; it starts fresh")
            continue
        values = {}
        for key, value in entry.items():
            if key not in kinds:
                continue
            if _fits(key, value):
                values[key] = value
            else:
                problems.append(f"{path}: mirror {name!r}: field {key!r} cannot be {value!r}; "
                                "using its default")
        states[name] = MirrorState(**values)
    return states, written, problems


def _fits(key: str, value: Any) -> bool:
    if key in ("last_error", "pushed"):
        return value is None or isinstance(value, str)
    if key in ("state", "alerted"):
        return value in STATES
    is_int = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return is_int if key == "failures" else value is None or is_int


def load_states(root: Path) -> tuple[dict[str, MirrorState], list[str]]:
    """The state to start from: the cached copy, or the committed one when a later run
    wrote it (or the cache is missing)."""
    cached, cached_ms, problems = read_states(root / CACHED_MIRRORS_FILE)
    committed, committed_ms, more = read_states(root / MIRRORS_FILE)
    return (committed if committed_ms > cached_ms else cached), problems + more


def snapshot_changed(root: Path, names: list[str]) -> list[str]:
    """Mirrors whose durable state differs from the committed snapshot, "name (state)"."""
    current, _ = load_states(root)
    committed, _, _ = read_states(root / MIRRORS_FILE)
    return [f"mirror {name} ({current[name].state})" for name in names
            if name in current and durable(current[name]) != durable(committed.get(name, MirrorState()))]


def snapshot(root: Path, names: list[str], now_ms: int) -> bytes | None:
    """The committed snapshot's new bytes (None when no mirror has any state yet)."""
    current, _ = load_states(root)
    kept = {name: current[name] for name in names if name in current}
    return dump_states(kept, written_ms=now_ms) if kept else None


# -- pushing -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MirrorOutcome:
    name: str
    ok: bool | None
    """True: it has our HEAD; False: it failed this run; None: not tried (backing off)."""
    message: str


class _SshKey:
    """The deploy key from $NEWSMIRROR_SSH_KEY in a private file for the pushes of one run."""

    def __init__(self) -> None:
        self.path: str | None = None

    def env(self) -> dict[str, str]:
        key = os.environ.get(SSH_KEY_ENV, "").strip()
        if not key or "GIT_SSH_COMMAND" in os.environ:
            return {}
        if self.path is None:
            fd, self.path = tempfile.mkstemp(prefix="newsmirror-key-")  # mode 0600
            with os.fdopen(fd, "w") as file:
                file.write(key.replace("\r\n", "\n") + "\n")
        return {"GIT_SSH_COMMAND": f"ssh -i '{self.path}' -o IdentitiesOnly=yes "
                                   "-o StrictHostKeyChecking=accept-new -o BatchMode=yes"}

    def close(self) -> None:
        if self.path:
            os.unlink(self.path)
            self.path = None


def _address(mirror: MirrorConfig) -> tuple[str | None, str | None]:
    """The address to push to and, when there is none, why."""
    if mirror.url:
        return mirror.url, None
    url = os.environ.get(mirror.url_env or "", "").strip()
    if not url:
        return None, f"${mirror.url_env} is not set (a secret the workflow must pass)"
    if url.startswith("-") or any(c.isspace() or ord(c) < 32 for c in url):
        return None, f"${mirror.url_env} does not hold a git address"
    return url, None


def _scrub(text: str, url: str) -> str:
    """`text` without the address's user name, password or token anywhere in it."""
    text = text.replace(url, redact(url))
    if "://" in url:
        try:
            secret = urlsplit(url).password
        except ValueError:
            secret = None
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass
class _Pushing:
    """What the pushes of one run to the mirrors share."""

    deepened: bool = False
    """Whether the clone was deepened already (or must never be: a ref whose history the
    mirror needs no more of than we have)."""
    on_primary: bool = False
    """Whether the primary remote has our HEAD: then it is the archive, and a mirror
    that diverged from it may be brought back to it when it holds nothing more."""
    notes: dict[str, str] = field(default_factory=dict)
    """By mirror: what its push did beyond pushing (its diverged history replaced)."""


def _push_one(repo: Repo, mirror: MirrorConfig, url: str, config: Config, env: dict[str, str],
              pushing: _Pushing, refspec: str | None = None) -> str | None:
    """Push HEAD (or `refspec`) to one mirror, with its attempts; None when it took it,
    else why not."""
    reason = ""
    attempt = 0
    reconciled = refspec is not None
    while attempt < mirror.attempts:
        done = repo.git("push", "-q", url, refspec or f"HEAD:refs/heads/{config.branch}",
                        check=False, timeout=300, env=env)
        if done.returncode == 0:
            return None
        words = done.stderr.decode("utf-8", "replace")
        reason = git_reason(done)
        if not pushing.deepened and any(sign in words for sign in _SHALLOW_SIGNS) and repo.is_shallow():
            # The mirror lacks commits older than this clone holds: take the history from
            # the primary remote once, then try again (not counted as an attempt).
            pushing.deepened = True
            fetched = repo.git("fetch", "-q", "--unshallow", config.remote_name, config.branch,
                               check=False, timeout=1800)
            if fetched.returncode == 0:
                continue
            reason += "\n  (this clone is shallow, and deepening it from " \
                      f"{config.remote_name} failed:\n{git_reason(fetched)})"
        elif not reconciled and pushing.on_primary and any(sign in words for sign in _REFUSED_SIGNS):
            reconciled = True  # once: what the mirror holds is looked at, not retried
            took, words = _diverged(repo, url, config.branch, env)
            if took:
                pushing.notes[mirror.name] = words
                return None
            reason += f"\n  ({words})"
            break
        attempt += 1
        if attempt < mirror.attempts and mirror.retry_delay:
            time.sleep(mirror.retry_delay)
    return _scrub(reason, url)


def _diverged(repo: Repo, url: str, branch: str, env: dict[str, str]) -> tuple[bool, str]:
    """A mirror refused our HEAD although the primary remote has it: whether it has HEAD
    now, and what was found, in words. It has when it is ahead of us (another run pushed
    it later commits), or when every file its own commits wrote our commits since wrote
    too (an ephemeral runner whose primary push failed pushed them, and the next runner,
    cloning the primary, archived the same articles anew): then its branch is set to
    HEAD, guarded by a lease on what it had. Else it is left alone, and the words name the
    files only it has (or has a later text of), which replacing its branch would lose."""
    fetched = repo.git("fetch", "-q", "--no-tags", url, f"+refs/heads/{branch}:{_THEIRS}",
                       check=False, timeout=1800, env=env)
    if fetched.returncode != 0:
        return False, f"and its branch could not be fetched to see why: {git_reason(fetched)}"
    try:
        theirs = repo.out("rev-parse", _THEIRS)
        if repo.git("merge-base", "--is-ancestor", "HEAD", theirs, check=False).returncode == 0:
            return True, "it had this commit already, and later ones"
        base = repo.git("merge-base", "HEAD", theirs, check=False).stdout.decode().strip()
        if not base:
            return False, "its history and the primary's have no commit in common; replace it by hand"
        # A file their commits wrote is ours too only when our commits since `base` wrote
        # it as well (the same article archived anew): a path we have, untouched since
        # `base`, holds the text their commits replaced (an article a watch rewrote).
        added = _written(repo, base, theirs)
        ours = set(_written(repo, base, "HEAD"))
        only = [p for p in added if not p.startswith(_DERIVED) and p not in ours]
        if only:
            return False, (f"it holds {len(only)} file(s) the primary lacks or has an older text of, "
                    "from commits the primary never "
                    f"got, e.g. {only[0]}; take them in (git fetch the mirror, check out those files, "
                    "commit) before it can follow the primary again")
        count = repo.out("rev-list", "--count", f"HEAD..{theirs}")
        forced = repo.git("push", "-q", f"--force-with-lease=refs/heads/{branch}:{theirs}", url,
                          f"HEAD:refs/heads/{branch}", check=False, timeout=300, env=env)
        if forced.returncode != 0:
            return False, f"it diverged, and replacing its branch failed: {git_reason(forced)}"
        return True, (f"replaced its {count} commit(s) the primary never got (their files are all in "
                f"the primary's history too) with the primary's branch")
    finally:
        repo.git("update-ref", "-d", _THEIRS, check=False)


def _written(repo: Repo, base: str, tip: str) -> list[str]:
    """The files the commits from `base` to `tip` added or changed, as they are at `tip`."""
    names = repo.out("diff", "--name-only", "--no-renames", "--diff-filter=AM", "-z", base, tip)
    return [name for name in names.split("\0") if name]


def _env_for(url: str, key: _SshKey) -> dict[str, str]:
    """What a push to `url` needs in its environment: the deploy key over SSH."""
    return key.env() if "://" not in url or url.startswith("ssh://") else {}


def push_ref(repo: Repo, config: Config, refspec: str, *,
             primary: MirrorConfig | None = None) -> list[MirrorOutcome]:
    """Push `refspec` (say `+COMMIT:refs/heads/site`) to `primary` first, when given, then
    to every mirror, each with its attempts, with the pushes of the archive's branch
    (`_push_one`). No state is kept: the branch's own pushes keep each host's. One
    outcome per target, in that order; a failure never stops the others."""
    targets = ([primary] if primary else []) + list(config.mirrors)
    key = _SshKey()
    outcomes = []
    try:
        for mirror in targets:
            url, missing = _address(mirror)
            reason = missing if url is None else _push_one(repo, mirror, url, config, _env_for(url, key),
                                                           _Pushing(deepened=True), refspec)
            where = redact(url) if url else f"${mirror.url_env}"
            ref = refspec.rsplit(":", 1)[-1].removeprefix("refs/heads/")
            outcomes.append(MirrorOutcome(mirror.name, True, f"pushed {ref} to {mirror.name} "
                                                             f"({where})") if reason is None
                            else MirrorOutcome(mirror.name, False, f"{mirror.name} ({where}): "
                                               f"push of {ref} failed:\n{reason.rstrip()}"))
    finally:
        key.close()
    return outcomes


def push_mirrors(repo: Repo, root: Path, config: Config, *,
                 now_ms: int | None = None) -> tuple[list[MirrorOutcome], list[str]]:
    """Push HEAD to every mirror that is due and does not have it yet; record each one's
    state in the cached mirrors file and alert on changes of state. Returns one outcome
    per mirror and the warnings (an unreadable state file, an alert not delivered)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    head = repo.head()
    states, warnings = load_states(root)
    outcomes: list[MirrorOutcome] = []
    if head is None or not config.mirrors:
        return outcomes, warnings
    key = _SshKey()
    pushing = _Pushing(on_primary=repo.has_remote(config.remote_name)
                       and repo.unpushed(config.remote_name, config.branch) == 0)
    after = config.alerts.after_failures
    try:
        for mirror in config.mirrors:
            state = states.get(mirror.name, MirrorState())
            if state.pushed == head and not state.failures:
                outcomes.append(MirrorOutcome(mirror.name, True, f"mirror {mirror.name}: up to date"))
                continue
            if state.next_attempt_ms is not None and now_ms < state.next_attempt_ms \
                    and state.next_attempt_ms - now_ms <= backoff_ms(99):
                outcomes.append(MirrorOutcome(
                    mirror.name, None, f"mirror {mirror.name}: skipped, backing off until "
                    f"{utc_minutes(state.next_attempt_ms)} after {state.failures} failed push(es): "
                    f"{(state.last_error or '').strip().splitlines()[0] if state.last_error else ''}"))
                continue
            url, missing = _address(mirror)
            reason = missing if url is None else _push_one(repo, mirror, url, config,
                                                           _env_for(url, key), pushing)
            where = redact(url) if url else f"${mirror.url_env}"
            if reason is None:
                state = replace(state, failures=0, last_error=None, last_attempt_ms=now_ms,
                                last_success_ms=now_ms, next_attempt_ms=None,
                                failing_since_ms=None, pushed=head, state="ok")
                done = f"; {pushing.notes[mirror.name]}" if mirror.name in pushing.notes else ""
                outcomes.append(MirrorOutcome(mirror.name, True,
                                              f"pushed to mirror {mirror.name} ({where}){done}"))
            else:
                failures = state.failures + 1
                state = replace(state, failures=failures, last_error=reason.strip() or "failed",
                                last_attempt_ms=now_ms, next_attempt_ms=now_ms + backoff_ms(failures),
                                failing_since_ms=state.failing_since_ms or now_ms,
                                state="failing" if failures >= after or state.state == "failing"
                                else "ok")
                outcomes.append(MirrorOutcome(
                    mirror.name, False,
                    f"mirror {mirror.name} ({where}): push failed ({failures} in a row; next "
                    f"try after {utc_minutes(state.next_attempt_ms or now_ms)}); the other copies "
                    f"are not affected:\n{reason.rstrip()}"))
            states[mirror.name] = state
    finally:
        key.close()
    warnings += _alert(config, states, now_ms)

    kept = {m.name: states[m.name] for m in config.mirrors if m.name in states}
    write_atomic(root / CACHED_MIRRORS_FILE, dump_states(kept, written_ms=now_ms))
    return outcomes, warnings


# -- alerts ------------------------------------------------------------------------------
def alert_payload(mirror: MirrorConfig, m: MirrorState, previous: str, now_ms: int,
                  archive: str) -> dict[str, Any]:
    """The JSON body of one mirror alert (the fields of a source's, where they apply)."""
    where = mirror.web or redact(mirror.url or f"${mirror.url_env}")
    if m.state == "ok":
        line = f"mirror {mirror.name} ({where}) takes pushes again (it was {previous})"
    else:
        line = (f"mirror {mirror.name} ({where}) is failing: {m.failures} failed pushes in a row"
                + (f" since {utc_minutes(m.failing_since_ms)}" if m.failing_since_ms else "")
                + (f"; last error: {m.last_error.strip().splitlines()[0]}" if m.last_error else ""))
    text = f"newsmirror ({archive}): {line}"
    return {"event": "recovered" if m.state == "ok" else "failing", "mirror": mirror.name,
            "web": mirror.web, "kind": mirror.kind, "state": m.state, "previous": previous,
            "consecutive_failures": m.failures, "last_error": m.last_error,
            "failing_since_ms": m.failing_since_ms, "last_success_ms": m.last_success_ms,
            "archive": archive, "time_ms": now_ms, "text": text, "content": text}


def _alert(config: Config, states: dict[str, MirrorState], now_ms: int) -> list[str]:
    """POST each mirror's change of state to the [alerts] webhook; remember what was
    delivered. Returns the warnings."""
    from newsmirror.alerts.webhook import resolve_webhook, send_alerts

    url, _problem = resolve_webhook(config.alerts)
    if not url:
        return []  # the sources' alerts already said why, when they could not be sent
    pending = [(m.name, alert_payload(m, states[m.name], states[m.name].alerted, now_ms,
                                      config.title))
               for m in config.mirrors
               if m.name in states and states[m.name].state != states[m.name].alerted]
    if not pending:
        return []
    # The callers may be inside an event loop already: deliver from a thread of our own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        delivery = pool.submit(asyncio.run, send_alerts(url, pending, config.fetch)).result()
    for name in delivery.delivered:
        states[name] = replace(states[name], alerted=states[name].state)
    return [f"mirrors: {delivery.problem}"] if delivery.problem else []
