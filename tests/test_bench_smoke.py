"""bench/run.py --quick runs end to end and prints its table (no assertion on speed: the
figures depend on the machine; the full run writes them to bench/RESULTS.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_quick_benchmark_prints_the_table():
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-write"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "| Benchmark" in out and "| Target" in out
    for name in ("1. Cold ingest", "2. Idle hour", "3. Busy hour", "4. Rebuild", "5. Parse floor"):
        assert name in out, out
    assert "articles/s" in out
    assert "RESULTS.md" not in out  # --no-write leaves the committed results alone


def test_quick_pages_benchmark_prints_its_floor_and_ratio():
    """bench/pages.py --quick: the concurrent run against its floor, at the limit it set."""
    script = BENCH.parent / "pages.py"
    done = subprocess.run([sys.executable, str(script), "--quick", "--no-write"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "Floor: 0.05 s × (1 feed + ⌈12/2⌉ page waves) = 0.35 s." in out
    assert "- nproc: " in out and "- CPU: " in out
    # The server never saw more than the per-host limit (2) in flight. Whether it reached
    # it depends on timing (a server that only sleeps), which tests/jobs/test_pages.py
    # proves with a server that holds its answers.
    rows = [line for line in out.splitlines() if "× | " in line]
    assert rows and all(line.rstrip(" |").rsplit("| ", 1)[1] in ("1", "2") for line in rows), rows
    assert "With that taken off" in out


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_quick_git_steps_benchmark_times_shallow_and_full(tmp_path: Path):
    script = BENCH.with_name("git_steps.py")
    done = subprocess.run([sys.executable, str(script), "--quick", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "| step | shallow (`fetch-depth: 1`) | full history (`fetch-depth: 0`) |" in out
    assert "2000 articles" in out and "8760 commits" in out
    assert "| still shallow after the push | yes |" in out
    for step in ("clone", "commit", "push after the remote moved on", "**all git steps**"):
        assert step in out, out


def test_quick_cold_ingest_prints_its_floor_ratio_and_top_costs():
    """--cold-only --top-costs: the cold ingest, the floor measured in the same run (bench/floor.py),
    their ratio, peak memory, the machine and the five largest costs."""
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--cold-only", "--top-costs"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "floor (bench/floor.py, same feeds, same server, 240 articles)" in out, out
    assert "× the floor" in out and "peak memory" in out and "machine: " in out
    assert out.count("top costs (cProfile, own time): ") == 5
    assert "2. Idle hour" not in out and "RESULTS.md" not in out


def test_startup_benchmark_prints_each_command_against_the_interpreter():
    done = subprocess.run([sys.executable, str(BENCH.parent / "startup.py"), "--runs", "1", "--importtime"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "python -c pass: " in out and "machine: " in out
    for name in ("newsmirror --help", "newsmirror check (2 sources)", "newsmirror run, to its first request"):
        assert f"{name}: " in out and "= python -c pass + " in out, out
    assert "largest imports of `newsmirror run`" in out and "newsmirror." in out


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_site_scale_benchmark_prints_each_figure_with_its_growth_exponent():
    script = BENCH.with_name("site_scale.py")
    done = subprocess.run([sys.executable, str(script), "--sizes", "120,360", "--new", "20",
                           "--sources", "6", "--no-write"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "| figure | 140 articles | 380 articles | k 140→380 |" in out, out
    for figure in ("full build, s", "incremental hour, peak MB", "idle rebuild, s", "site size, MB",
                   "clone, s"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {figure} |"))
        assert len(row.strip("| ").split(" | ")) == 4, row  # name, two sizes, one exponent
    assert "one site passes GitHub Pages' 1 GB at about" in out


def test_quick_site_publication_benchmark_prints_its_three_publications():
    """bench/site_publish.py --quick: the branch site stays one commit through them."""
    script = BENCH.parent / "site_publish.py"
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    for label in ("- first: build", "- from a shallow clone (the workflow), after one new article: build", "- nothing new: build"):
        assert label in done.stdout, done.stdout
    assert "The branch site on the primary: 1 commit." in done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_quick_rebuild_benchmark_prints_its_figures_floors_and_exponents():
    """bench/rebuild.py --quick: a cache miss at two sizes, with its floors and catalog size."""
    done = subprocess.run([sys.executable, str(BENCH.with_name("rebuild.py")), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "| figure | 120 articles | 360 articles | k 120→360 |" in out, out
    for figure in ("catalog rebuild, s", "CPU (process + git), s", "peak memory, MB",
                   "floor: read every file, s", "floor: ls-files + cat-file --batch, s",
                   "catalog, bytes per article"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {figure} |"))
        assert len(row.strip("| ").split(" | ")) == 4, row  # name, two sizes, one exponent
    assert "- nproc: " in out and "What the catalog holds at 360 articles" in out
    assert "RESULTS-rebuild.md" not in out  # --quick writes nothing


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_tiny_growth_benchmark_prints_its_split_and_floor():
    """bench/growth.py: packed history per article by part of the archive, against the
    article files alone (the figures at 100 hours are in bench/RESULTS-growth.md)."""
    script = BENCH.with_name("growth.py")
    done = subprocess.run([sys.executable, str(script), "--hours", "2", "--sources", "2", "--no-write"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "- nproc: " in out and "2 hourly runs, 2 sources x 3 new items = 12 new articles" in out
    for part in ("| articles/ |", "| feeds/ |", "| lists and READMEs |", "B per new article", "Floor (the article files alone)"):
        assert part in out, out
    assert "RESULTS-growth.md" not in out


def test_extraction_benchmark_scores_a_scrapinghub_shaped_folder(tmp_path):
    """bench/extraction.py --english reads ground-truth.json and html/<key>.html.gz and
    scores every method with the 4-gram metric (on one page made here, not a third-party
    one): the extraction keeps up with the extractor's own API."""
    import gzip
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("bench_extraction", BENCH.parent / "extraction.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up there
    spec.loader.exec_module(bench)
    text = " ".join(f"Paragraph {n} says that the council met on Tuesday and agreed to talk again."
                    for n in range(30))
    page = ("<html><head><title>Council meets</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Council meets</h1><p>{text}</p></article>"
            "<footer>Subscribe to our newsletter</footer></body></html>")
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "k1.html.gz").write_bytes(gzip.compress(page.encode()))
    (tmp_path / "ground-truth.json").write_text(
        json.dumps({"k1": {"articleBody": text, "url": "https://news.example/council"}}), "utf-8")
    [row] = bench.run_english(tmp_path)
    assert set(row.scores) == set(bench.METHODS)
    assert row.scores["newsmirror"].f1 > 0.95
    out = bench.report([row], short_reasons={})
    assert "| newsmirror |" in out and "regressions" in out


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_quick_shards_benchmark_prints_both_hours_and_the_ratio():
    script = BENCH.with_name("shards.py")
    done = subprocess.run([sys.executable, str(script), "--hours", "1", "--sources", "2", "--no-write"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "- nproc: " in out and "| 1.00× |" in out and "two commits, two pushes" in out
    assert "the sharded archive's 6 new articles went to its shard" in out
    assert "RESULTS-shards.md" not in out


@pytest.mark.skipif(shutil.which("git") is None, reason="the benchmark needs git")
def test_site_scale_benchmark_prints_what_the_main_and_a_shards_site_publish():
    script = BENCH.with_name("site_scale.py")
    done = subprocess.run([sys.executable, str(script), "--sharded", "--sizes", "240", "--new", "20",
                           "--sources", "6", "--no-write"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "- nproc:" in out and "| figure | 260 articles |" in out, out
    assert "| articles in the main repository / in the shard | 120 / 140 |" in out, out
    for figure in ("main site without article pages, bytes per article listed",
                   "shard site, bytes per article it holds", "articles one 1 GB shard site holds",
                   "articles the main site lists under 1 GB (none of its own)", "… × floor of the hour"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {figure} |"))
        assert float(row.strip("| ").split(" | ")[1].replace(",", "")) > 0, row


def test_tiny_scale_benchmark_prints_every_figure_with_its_load_and_exponent(tmp_path: Path):
    """bench/scale.py at two tiny sizes: the hours, the rebuild, the site and the clones in
    one table, each timed figure with its load average, each with its growth exponent; a
    second run measures the clones again and keeps the other figures; a third with --reuse
    takes the figures from --work instead of measuring again."""
    script = BENCH.with_name("scale.py")
    argv = [sys.executable, str(script), "--sizes", "250,750", "--sources", "25", "--window", "5",
            "--idle-runs", "1", "--work", str(tmp_path), "--no-write"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    out = done.stdout
    assert "- nproc: " in out and "- load average at start: " in out
    assert "| figure | 250 articles | 750 articles | k 250→750 |" in out, out
    for figure in ("idle hour, s", "busy hour (45 new), s", "rebuild: catalog from the files, s",
                   "rebuild floor: read every article file, s", "site full build, s",
                   "site incremental (100 new), s", "site incremental floor, s", "clone full, s",
                   "clone --depth 1, peak MB", "clone floor (copy the repository, write the tree), s"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {figure} |"))
        cells = row.strip("| ").split(" | ")
        assert len(cells) == 4 and "(load " in cells[1] and "(load " in cells[2], row
    assert "Worse than linear (k > 1): " in out and "RESULTS-scale.md" not in out
    clones = subprocess.run([*argv, "--parts", "clones"], capture_output=True, text=True, timeout=120, check=False)
    assert clones.returncode == 0, clones.stderr[-3000:]
    assert "clones measured again on " in clones.stdout and "idle and busy hour" not in clones.stderr
    assert next(line for line in clones.stdout.splitlines() if line.startswith("| busy hour (45 new), s |")) in out
    again = subprocess.run([*argv, "--reuse"], capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "measured " in again.stdout and "clones ..." not in again.stderr
