"""Small helpers the tests share: the real git binary, on real repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(*args: str, cwd: Path) -> str:
    """Run git in `cwd` and return its output, stripped (paths printed unquoted)."""
    return subprocess.run(["git", "-c", "core.quotepath=false", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def bare_remote(path: Path) -> Path:
    """A bare repository at `path` to push to, with `main` as its default branch."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path
