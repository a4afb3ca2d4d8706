"""The archive's state files (source health, the watch's rotation) through the real
command line: one that a bad merge or a hand edit broke, or that a newer newsmirror
wrote, never stops a command. It says which file and what is wrong in one warning, keeps
the file as it was beside it (`.bad`), and goes on with what it could read."""

from __future__ import annotations

import json

from newsmirror.archive.paths import WATCH_FILE
from newsmirror.jobs.watch import load_states
from newsmirror.sources.health import read_health, state_files
from tests.cli.test_run_cli import cli, serve_feed, write_config


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning: " in line]


def test_a_committed_health_file_that_fails_validation_is_kept_aside(tmp_path, httpserver):
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")})
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    committed, cached = state_files(tmp_path / "archive")
    cached.unlink()  # a fresh runner: the committed copy is all there is
    broken = b'{"version": 2, "sources": {"a": {"failures": "three"}}, "written_ms": 1}\n'
    committed.write_bytes(broken)
    done = cli("run", "--no-push", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [w for w in warnings(done.stderr) if "health.json" in w]
    assert f"{committed}: source 'a': field 'failures' must be a whole number" in line
    assert f"kept as {committed}.bad" in line
    assert (committed.parent / "health.json.bad").read_bytes() == broken
    assert read_health(cached).problems == []  # the run wrote a good state again


def test_a_health_file_that_is_not_json_starts_fresh_and_is_kept(tmp_path, httpserver):
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")})
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    committed, cached = state_files(tmp_path / "archive")
    for path in (committed, cached):
        path.write_bytes(b"<<<<<<< HEAD\n{}\n=======\n")
    done = cli("run", "--no-push", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [w for w in warnings(done.stderr) if "not valid JSON" in w]
    assert len(lines) == 2 and all("starts fresh" in w and ".bad" in w for w in lines)
    for path in (committed, cached):
        assert path.with_name("health.json.bad").read_bytes() == b"<<<<<<< HEAD\n{}\n=======\n"
    assert read_health(cached).problems == []


def test_an_unversioned_health_file_is_read_as_version_1(tmp_path, httpserver):
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")})
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    committed, cached = state_files(tmp_path / "archive")
    cached.unlink()
    committed.write_text(json.dumps({"sources": {"a": {"etag": None, "failures": 2}}}))
    done = cli("run", "--no-push", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not [w for w in warnings(done.stderr) if "health" in w]
    assert not committed.with_name("health.json.bad").exists()
    assert json.loads(cached.read_text())["version"] == 2


def test_a_broken_watch_state_is_kept_aside_and_the_rest_read(tmp_path, httpserver):
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")})
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    # An older newsmirror's header (no version: version 1), one good line, two broken.
    state = tmp_path / "archive" / WATCH_FILE
    state.parent.mkdir(parents=True, exist_ok=True)
    broken = (b"# newsmirror watch: path, last checked (UTC), result, page text hash, "
              b"removal first seen, changes seen (comma-separated)\n"
              b"articles/x.md\t2025-01-01T00:00:00Z\tsame\tabc\t-\t-\n"
              b"articles/y.md\tyesterday\tsame\tabc\t-\t-\n"
              b"<<<<<<< HEAD\n")
    state.write_bytes(broken)
    done = cli("watch", "--no-push", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [w for w in warnings(done.stderr) if WATCH_FILE in w]
    assert f"{state}: line 3: time data 'yesterday'" in line and "(and 1 more)" in line
    assert f"kept as {state}.bad" in line
    assert state.with_name("watch.tsv.bad").read_bytes() == broken
    problems: list[str] = []
    states = load_states(state.read_bytes(), problems)
    assert problems == [] and "articles/x.md" in states  # what was readable is kept
    assert state.read_text().startswith("# newsmirror watch state, version 1: ")
    again = cli("watch", "--no-push", cwd=tmp_path)
    assert again.returncode == 0 and not [w for w in warnings(again.stderr) if WATCH_FILE in w]


def test_a_watch_state_of_a_newer_version_is_read_as_far_as_it_fits(tmp_path, httpserver):
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")})
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    state = tmp_path / "archive" / WATCH_FILE
    state.write_text("# newsmirror watch state, version 9: whatever\n"
                     "articles/x.md\t2025-01-01T00:00:00Z\tsame\tabc\t-\t-\n")
    done = cli("watch", "--no-push", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = [w for w in warnings(done.stderr) if WATCH_FILE in w]
    assert "version 9, newer than this newsmirror reads (1)" in line and ".bad" in line
    assert "articles/x.md" in load_states(state.read_bytes())
