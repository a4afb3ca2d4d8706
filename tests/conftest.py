"""Shared fixtures. Test data that no one here wrote lives in ../shared/testdata."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    env = os.environ.get("NEWSMIRROR_SHARED")
    return Path(env) if env else PROJECT.parent / "shared"


SHARED = _shared_dir()
TESTDATA = SHARED / "testdata"
FORMAT_DIR = SHARED / "format"


def require_shared(path: Path, what: str) -> Path:
    """`path` when it is there. When it is not: outside CI the test is skipped, with the
    reason, since a clone of its own has no ../shared beside it; on CI (CI=true) the test
    fails, so that CI can never skip these tests silently."""
    if path.exists():
        return path
    reason = (f"{what} not found at {path}: these tests read real-world data that lives "
              f"beside the project in ../shared (or set NEWSMIRROR_SHARED)")
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return require_shared(SHARED, "the shared test data")


@pytest.fixture(scope="session")
def testdata_dir(shared_dir: Path) -> Path:
    return shared_dir / "testdata"


@pytest.fixture(scope="session")
def format_dir(shared_dir: Path) -> Path:
    return shared_dir / "format"


@pytest.fixture
def mirror(tmp_path: Path):
    """An archive with a bare remote, and the real pipeline to run over it."""
    from tests.helpers import Mirror

    return Mirror(tmp_path)


def pytest_report_header(config) -> str:
    found = "found" if SHARED.is_dir() else "NOT FOUND: tests that read it are skipped (fail on CI)"
    return f"shared test data: {SHARED} ({found})"
