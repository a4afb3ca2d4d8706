"""`newsmirror sources` (table and --json) and the run summary, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.jobs.feeds import Item, rss

HOUR = 3_600_000
DAY = 24 * HOUR


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def write_config(path: Path, archive: Path, sources: list[dict], extra: str = "") -> Path:
    lines = [extra, f'[archive]\npath = "{archive}"\npush = false\n',
             "[fetch]\ntimeout = 5\nconnect_timeout = 2\n"]
    for s in sources:
        lines.append("[[sources]]\n" + "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in s.items()))
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_sources_json_and_table_tell_each_state(mirror, httpserver: HTTPServer, tmp_path: Path):
    now = int(time.time() * 1000)
    news = rss([Item(f"新闻{i}", f"https://news.test/{i}", "<p>x</p>", guid=str(i),
                     date_ms=now - 6 * DAY - i * HOUR) for i in range(3)])
    httpserver.expect_request("/ok.xml").respond_with_data(news, content_type="application/rss+xml")
    httpserver.expect_request("/down.xml").respond_with_data("no", status=500)
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    sources = [{"slug": "quiet", "name": "安静", "url": httpserver.url_for("/ok.xml")},
               {"slug": "down", "name": "D", "url": httpserver.url_for("/down.xml")},
               {"slug": "gone", "name": "G", "url": httpserver.url_for("/gone.xml")}]
    # Five days ago the first run found the articles; nothing new since, and the
    # quiet source still answers (an hour ago).
    mirror.run(sources, now_ms=now - 5 * DAY, push=False)
    mirror.run(sources[:1], now_ms=now - HOUR, push=False)
    # The down source failed twenty minutes ago: it waits out its backoff.
    mirror.run(sources[1:2], now_ms=now - 20 * 60_000, push=False)
    config = write_config(tmp_path / "n.toml", mirror.archive, [
        *sources, {"slug": "later", "name": "L", "url": httpserver.url_for("/ok.xml")},
        {"slug": "off", "name": "O", "url": httpserver.url_for("/ok.xml"), "enabled": False}])

    done = cli("sources", "--config", str(config), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {r["slug"]: r for r in json.loads(done.stdout)}
    assert list(rows) == ["quiet", "down", "gone", "later", "off"]
    assert {s: r["state"] for s, r in rows.items()} == {
        "quiet": "stale", "down": "backing off", "gone": "dead", "later": "new", "off": "disabled"}
    assert {s: r["alert_state"] for s, r in rows.items()} == {
        "quiet": "stale", "down": "ok", "gone": "dead", "later": "ok", "off": "ok"}
    quiet, down = rows["quiet"], rows["down"]
    assert quiet["last_new_ms"] == now - 5 * DAY and 4.9 < quiet["days_since_new"] < 5.1
    assert quiet["consecutive_failures"] == 0 and quiet["last_error"] is None
    assert quiet["articles"] == 3 and quiet["validators"] is False
    assert quiet["usual_interval_ms"] == HOUR
    assert down["consecutive_failures"] == 2 and "500" in down["last_error"]
    assert down["next_attempt_ms"] == now - 20 * 60_000 + 2 * HOUR
    assert rows["gone"]["last_error"].startswith("HTTP 410")
    assert rows["later"]["last_new_ms"] is None and rows["later"]["days_since_new"] is None

    table = cli("sources", "--config", str(config), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split("\t")[:4] == ["slug", "name", "state", "days since new"]
    cells = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert cells["quiet"][2:4] == ["stale", "5.0"]
    assert cells["down"][2] == "backing off" and cells["down"][6] == "2"
    assert cells["gone"][2] == "dead" and cells["later"][3] == "—"


def test_sources_with_a_broken_health_file_warns_and_lists(mirror, httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/f.xml").respond_with_data("no", status=500)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources, push=False)
    (mirror.archive / ".newsmirror/cache/health.json").write_text("{not json", encoding="utf-8")
    config = write_config(tmp_path / "n.toml", mirror.archive, sources)
    done = cli("sources", "--config", str(config), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [warning] = [line for line in done.stderr.splitlines() if "warning" in line]
    assert "not valid JSON" in warning and "the committed copy is used" in warning
    [row] = json.loads(done.stdout)
    assert row["consecutive_failures"] == 1  # from the committed snapshot


def test_run_summary_counts_sources_backing_off(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/ok.xml").respond_with_data(
        rss([Item("新闻", "https://news.test/1", "<p>x</p>", guid="1", date_ms=10**12)]),
        content_type="application/rss+xml")
    httpserver.expect_request("/down.xml").respond_with_data("no", status=500)
    config = write_config(tmp_path / "n.toml", tmp_path / "archive", [
        {"slug": "ok", "name": "O", "url": httpserver.url_for("/ok.xml")},
        {"slug": "down", "name": "D", "url": httpserver.url_for("/down.xml")}])
    first = cli("run", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 new, 0 updated, 1 source failed; committed" in first.stdout
    second = cli("run", "--config", str(config), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "down: skipped, backing off until" in second.stdout
    assert "0 new, 0 updated, 0 sources failed, 1 backing off; nothing to commit" in second.stdout


def test_alerts_config_is_checked(tmp_path: Path):
    bad = {
        '[alerts]\nwebhook = "ftp://x"\n': "alerts.webhook: 'ftp://x' is not an http(s) address",
        '[alerts]\nwebhook = "https://hooks.test/a b"\n': "alerts.webhook: 'https://hooks.test/a b' contains a space",
        '[alerts]\nafter_failures = 0\n': "alerts.after_failures: must be greater than 0, not 0",
        '[alerts]\nafter_failures = "3"\n': "alerts.after_failures: must be a number, not a string",
        '[alerts]\nwebhok = "https://hooks.test/"\n': "alerts.webhok: unknown key (known keys: after_failures, webhook, webhook_env)",
        '[alerts]\nwebhook_env = "MY-HOOK"\n': "alerts.webhook_env: 'MY-HOOK' is not an environment variable name",
        '[alerts]\nwebhook = "https://hooks.test/"\nwebhook_env = "HOOK"\n': "alerts: give webhook or webhook_env, not both",
        'alerts = "https://hooks.test/"\n': "alerts: must be a table, not a string",
    }
    for text, message in bad.items():
        config = tmp_path / "n.toml"
        config.write_text(text + '[[sources]]\nslug = "s"\nname = "S"\nurl = "https://news.test/f.xml"\n',
                          encoding="utf-8")
        done = cli("sources", "--config", str(config), "--json", cwd=tmp_path)
        assert done.returncode == 2, (text, done.stdout)
        assert f"{config}: {message}" in done.stderr, (text, done.stderr)
        assert "Traceback" not in done.stderr
