"""What every benchmark states about the machine it ran on, as (name, value) pairs."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path


def _field(path: str, key: str) -> str:
    """The value of the first `key: value` line of a /proc file, or "?"."""
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def facts() -> list[tuple[str, str]]:
    """The machine, its CPUs and memory, Python and git, the load and the date."""
    mem_kb = _field("/proc/meminfo", "MemTotal").split()[0]
    try:
        git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        git = "?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [("machine", platform.machine()), ("nproc", str(os.cpu_count())),
            ("memory", f"{int(mem_kb) / 2**20:.1f} GiB" if mem_kb.isdigit() else "?"),
            ("CPU", _field("/proc/cpuinfo", "model name")), ("Python", platform.python_version()),
            ("git", git), ("load average at start", load),
            ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))]


def markdown() -> list[str]:
    """The facts as Markdown list lines."""
    return [f"- {name}: {value}" for name, value in facts()]
