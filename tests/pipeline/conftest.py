import asyncio
from pathlib import Path

import pytest

from newsmirror.config import parse_config
from newsmirror.pipeline import run_mirror
from tests.helpers import bare_remote, git


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


@pytest.fixture
def mirror(tmp_path: Path) -> Mirror:
    return Mirror(tmp_path)
