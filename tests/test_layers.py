"""The package's layers (README, "Project layout"): the stages never import the jobs that
drive them, nor the command line; the jobs never import the command line. Read from the
source (every import, indented ones included), so a new upward import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "newsmirror"
STAGES = ("sources", "fetch", "parse", "content", "archive", "publish")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("newsmirror.")}


def upward(folders: tuple[str, ...], above: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for name in sorted(imported(path)):
                if name.split(".")[1] in above:
                    found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


def test_no_stage_imports_the_jobs_or_the_command_line():
    assert upward(STAGES, ("jobs", "cli")) == []


def test_the_jobs_do_not_import_the_command_line():
    assert upward(("jobs",), ("cli",)) == []


def test_the_probe_sees_indented_imports(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from newsmirror.jobs.mirror import run_mirror\n", encoding="utf-8")
    assert imported(probe) == {"newsmirror.jobs.mirror", "newsmirror.jobs.mirror.run_mirror"}


def part(path: Path, package: Path = PACKAGE) -> str:
    """The top-level part of the package a file belongs to (a folder or a module)."""
    rel = path.relative_to(package).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def import_edges(package: Path = PACKAGE) -> set[tuple[str, str]]:
    edges = set()
    for path in package.rglob("*.py"):
        me = part(path, package)
        for name in imported(path):
            other = name.split(".")[1]  # `from newsmirror import __version__` names no part
            is_part = (package / other).is_dir() or (package / f"{other}.py").is_file()
            if is_part and other != me:
                edges.add((me, other))
    return edges


KNOWN_PAIRS: set[tuple[str, str]] = set()
"""No pair imports each other; the set may only shrink, so it stays empty."""


def test_no_two_parts_import_each_other():
    edges = import_edges()
    pairs = {tuple(sorted(edge)) for edge in edges if edge[::-1] in edges}
    assert pairs <= KNOWN_PAIRS, sorted(pairs - KNOWN_PAIRS)


def test_the_pair_probe_sees_a_cycle(tmp_path: Path):
    assert ("jobs", "archive") in import_edges() and ("archive", "jobs") not in import_edges()
    (tmp_path / "low").mkdir()
    (tmp_path / "low" / "thing.py").write_text("def f():\n    import newsmirror.high\n",
                                              encoding="utf-8")
    (tmp_path / "high.py").write_text("from newsmirror.low.thing import f\n", encoding="utf-8")
    assert import_edges(tmp_path) == {("low", "high"), ("high", "low")}
