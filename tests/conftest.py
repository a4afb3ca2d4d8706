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


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED} (set NEWSMIRROR_SHARED)")
    return SHARED


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
