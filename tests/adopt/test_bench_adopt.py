"""bench/adopt.py --quick runs end to end and prints its table (no assertion on speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "adopt.py"


def test_quick_adopt_benchmark_prints_the_table():
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-write"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    for step in ("| adopt (survey) | 2000 files", "| first run, no cache | 2000 files cataloged",
                 "| second run (an hour) |", "| rebuild | 2020 articles read"):
        assert step in done.stdout, done.stdout
    assert "RESULTS-adopt.md" not in done.stdout
