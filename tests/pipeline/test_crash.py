"""Kill the process (SIGKILL) at random points of a run, many times: every re-run must end
with an archive whose files all parse, with no duplicate, no lost article, and a git
repository that `git fsck` finds clean."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsmirror.archive.article import parse_article
from newsmirror.archive.paths import key_from_path
from tests.helpers import bare_remote, git
from tests.pipeline.feeds import Item, rss

FEEDS, ITEMS = 12, 120
T0 = 1_764_000_000_000


def feed_for(source: int, edit_round: int) -> bytes:
    items = []
    for i in range(ITEMS):
        edited = f"<p>第{edit_round}版</p>" if i % 5 == edit_round % 5 else ""
        items.append(Item(f"源{source}新闻{i}", f"https://news.test/{source}/{i}",
                          f"<p>正文{source}-{i}</p>{edited}", guid=f"{source}-{i}",
                          date_ms=T0 + i * 60_000))
    return rss(items)


def start_run(config: Path, archive: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newsmirror", "-q", "run", "--config", str(config),
                             "--archive", str(archive)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_sigkill_at_random_points_never_corrupts_the_archive(tmp_path: Path, httpserver: HTTPServer):
    state = {"round": 0}

    def handler(request: Request) -> Response:
        source = int(request.path.strip("/").split(".")[0][1:])
        return Response(feed_for(source, state["round"]), content_type="application/rss+xml")

    for s in range(FEEDS):
        httpserver.expect_request(f"/s{s}.xml").respond_with_handler(handler)
    remote = tmp_path / "remote.git"
    bare_remote(remote)
    config = tmp_path / "newsmirror.toml"
    config.write_text(f'[archive]\nremote = "{remote}"\n' + "".join(
        f'[[sources]]\nslug = "s{s}"\nname = "源{s}"\nurl = "{httpserver.url_for(f"/s{s}.xml")}"\n'
        for s in range(FEEDS)), encoding="utf-8")
    archive = tmp_path / "archive"

    rng = random.Random(20261125)
    kills = 0
    for attempt in range(10):
        state["round"] = attempt // 3
        proc = start_run(config, archive)
        time.sleep(rng.uniform(0.4, 3.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
    assert kills >= 5, "the runs finished before they could be killed; raise the load"

    state["round"] = 7
    final = start_run(config, archive)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()

    files = sorted((archive / "articles").rglob("*.md"))
    assert len(files) == FEEDS * ITEMS
    keys = set()
    for path in files:
        article = parse_article(path.read_bytes(), name=str(path))
        source, item = article.link.rsplit("/", 2)[-2:]
        assert f"<p>正文{source}-{item}</p>" in article.body
        assert ("<p>第7版</p>" in article.body) == (int(item) % 5 == 2)
        keys.add((path.relative_to(archive).parts[1], key_from_path(path.name)))
    assert len(keys) == len(files)
    assert not list(archive.rglob(".newsmirror-tmp-*"))
    assert not (archive / ".git" / "index.lock").exists()
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=archive, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    dirty = git("status", "--porcelain", cwd=archive).split("\n")
    assert [line for line in dirty if line and not line.endswith("health.json")] == []
    # Everything committed has reached the remote.
    assert git("rev-parse", "HEAD", cwd=archive) == git("rev-parse", "main", cwd=remote)
    listed = (archive / "lists" / "s0.md").read_text()
    assert listed.count("\n\n") == ITEMS
