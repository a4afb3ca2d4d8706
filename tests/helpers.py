"""Small helpers the tests share: the real git binary, on real repositories."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from newsmirror.config import parse_config
from newsmirror.fetch.safety import checked_addresses
from newsmirror.jobs.requests import RequestOutcome, archive_requests
from newsmirror.jobs.mirror import run_mirror
from newsmirror.publish.site import MANIFEST


def git(*args: str, cwd: Path) -> str:
    """Run git in `cwd` and return its output, stripped (paths printed unquoted)."""
    return subprocess.run(["git", "-c", "core.quotepath=false", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def bare_remote(path: Path) -> Path:
    """A bare repository at `path` to push to, with `main` as its default branch."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


class Mirror:
    """An archive with a bare remote, and a way to run the real pipeline over it."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.remote = tmp_path / "remote.git"
        bare_remote(self.remote)
        self.archive = tmp_path / "archive"

    def config(self, sources: list[dict], **top):

        data = {"archive": {"path": str(self.archive), "remote": str(self.remote)},
                "fetch": {"timeout": 5, "connect_timeout": 2}, "sources": sources}
        data.update(top)
        return parse_config(data, file="test.toml", base=self.tmp)

    def run(self, sources: list[dict], *, now_ms: int | None = None, push: bool = True, **top):

        return asyncio.run(run_mirror(self.config(sources, **top), push=push, now_ms=now_ms))

    def commits(self) -> list[str]:
        return git("log", "--format=%H", cwd=self.archive).split()

    def changed_in(self, commit: str) -> list[str]:
        return git("show", "--format=", "--name-only", commit, cwd=self.archive).split()

    def articles(self) -> list[Path]:
        return sorted((self.archive / "articles").rglob("*.md"))


def check_url(url: str, **allow) -> str:
    """The normalised `url` when newsmirror would fetch it (UnsafeURLError otherwise)."""
    return checked_addresses(url, **allow)[0]


def archive_urls(config, urls: list[str], *, push: bool = True,
                 allow_private: bool = False) -> list[RequestOutcome]:
    """`archive_requests` run to its end; one outcome per address, in order."""
    return asyncio.run(archive_requests(config, urls, push=push, allow_private=allow_private)).outcomes


def site_tree(out: Path) -> dict[str, bytes]:
    """Every file of a built reading site (its build state aside) and its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != MANIFEST}
