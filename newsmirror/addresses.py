"""What makes an address usable, checked where a config names one: web addresses
(feeds, the site, webhooks, image-proxy templates) and the git remotes an archive is
pushed to, and what a git remote's address says about its host (kind, web page).
Pure functions of the text, with no I/O; config, checks and the mirrors share them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit


def web_problem(url: str) -> str | None:
    """Why `url` is not a usable http(s) address (a feed, a page, a webhook, a site), or
    None; said of the address, as in f"{url!r} {problem}" (so a secret one need not be shown)."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "contains a space or a control character (write a space as %20)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError as err:
        return f"is not a valid address ({err})"
    if parts.scheme not in ("http", "https"):
        return "is not an http(s) address"
    if not parts.hostname:
        return "has no host name"
    return None


_SCP = re.compile(r"(?:(?P<user>[^@/:]+)@)?(?P<host>[^/:]+):(?P<path>[^/].*)")


def git_remote_problem(url: str) -> str | None:
    """Why `url` cannot be a git remote to push to (a mirror's address), or None."""
    if not url.strip():
        return "must not be empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return f"{url!r} contains a space or a control character"
    if url.startswith("-"):
        return f"{url!r} starts with '-' (git would take it for an option)"
    if "://" in url:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as err:
            return f"{url!r} is not a valid address ({err})"
        if parts.scheme not in ("https", "http", "ssh", "git", "file"):
            return f"{url!r}: git cannot push over {parts.scheme}:// (use https, ssh or a path)"
        if parts.scheme in ("https", "http") and parts.password:
            return ("the address holds a password or token; put the whole address in a "
                    "secret and name its environment variable in url_env instead")
    return None


def host_path(url: str) -> tuple[str, str] | None:
    """(host, owner/repo) of a remote git address; None for a local path."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        return parts.hostname.lower(), parts.path.strip("/")
    scp = _SCP.fullmatch(url)
    if scp and not Path(url).is_absolute():
        return scp["host"].lower(), scp["path"].strip("/")
    return None


def derive_kind(url: str) -> str:
    """The kind of host, from the address: github, gitlab, codeberg, local or other
    (a self-hosted Gitea or GitLab says so with `kind`)."""
    where = host_path(url)
    if where is None:
        return "local"
    host = where[0]
    if host in ("github.com", "ssh.github.com"):
        return "github"
    if host == "gitlab.com":
        return "gitlab"
    if host == "codeberg.org":
        return "codeberg"
    return "other"


def derive_web(url: str, kind: str) -> str | None:
    """The repository's web page on a known kind of host (None: not derivable)."""
    where = host_path(url)
    if where is None or kind not in ("github", "gitlab", "codeberg", "gitea"):
        return None
    host, path = where
    if host == "ssh.github.com":
        host = "github.com"
    path = path.removesuffix(".git")
    return f"https://{host}/{path}" if path else None


def suffixed_address(url: str, suffix: str) -> str:
    """The git address of the repository named like the one at `url` with `suffix` after
    its name (a yearly shard's: `git@github.com:me/news.git`, "-2027" ->
    `git@github.com:me/news-2027.git`); any address form, a local path included."""
    stem = url.rstrip("/")
    dotgit = stem.endswith(".git")
    stem = stem.removesuffix(".git")
    return f"{stem}{suffix}{'.git' if dotgit else ''}"
