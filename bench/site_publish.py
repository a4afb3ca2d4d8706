"""What publishing the reading site costs: build, then `publish_site` (the branch `site`
force-pushed to a primary and one mirror, both bare repositories on local disk).

    python bench/site_publish.py [--articles 10000] [--quick]

A full (not shallow) archive of `--articles` synthetic Chinese articles (4 sources,
about 2 KB of body each) is committed and pushed; then three publications are timed,
each the build and the publication apart: the first, one after a new article, one with
nothing new (from the full archive), then the workflow's hour: a fresh shallow clone of
the primary, one new article, a build from nothing and the publication. Prints the machine and one line per publication. --quick: 300
articles, for a smoke check; its figures are not comparable.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import facts as machine  # noqa: E402

from newsmirror.archive.article import render_article  # noqa: E402
from newsmirror.archive.paths import article_path  # noqa: E402
from newsmirror.archive.store import open_store  # noqa: E402
from newsmirror.config import parse_config  # noqa: E402
from newsmirror.models import Article  # noqa: E402
from newsmirror.archive.git import Repo  # noqa: E402
from newsmirror.publish.pages import publish_site  # noqa: E402
from newsmirror.publish.site import build_site  # noqa: E402

SOURCES = ("voa", "bbc", "rfi", "dw")
CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def write_article(archive: Path, i: int, rng: random.Random) -> None:
    slug = SOURCES[i % len(SOURCES)]
    when = 1_600_000_000_000 + i * 900_000
    title = f"新闻第{i}号 " + "".join(rng.choice(CHARS) for _ in range(8))
    body = "".join("<p>" + "".join(rng.choice(CHARS) for _ in range(120)) + "</p>" for _ in range(6))
    path = archive / article_path(slug, when, title, f"{i:012x}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_article(Article(when, title, f"https://news.test/{slug}/{i}", body)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    articles = 300 if args.quick else args.articles
    print("## Machine\n")
    for key, value in machine():
        print(f"- {key}: {value}")
    print(f"\n## Publishing the site of {articles:,} articles (primary and one mirror on disk)\n")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in ("primary.git", "mirror.git"):
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(root / name)], check=True)
        archive = root / "archive"
        rng = random.Random(1)
        for i in range(articles):
            write_article(archive, i, rng)
        git("init", "-q", "-b", "main", cwd=archive)
        git("add", "-A", cwd=archive)
        git("commit", "-qm", "articles", cwd=archive)
        git("remote", "add", "origin", str(root / "primary.git"), cwd=archive)
        git("push", "-q", "origin", "main", cwd=archive)
        config = parse_config(
            {"archive": {"path": "archive", "mirrors": [{"name": "disk", "url": str(root / "mirror.git")}]},
             "sources": [{"slug": s, "name": s, "url": f"https://news.test/{s}.xml"} for s in SOURCES]},
            file=str(root / "newsmirror.toml"), base=root)
        out = root / "site"

        def publication(label: str) -> None:
            start = time.perf_counter()
            with open_store(archive, writes=False) as store:
                report = build_site(config, store, out)
            built = time.perf_counter()
            published = publish_site(Repo(archive), config, out)
            done = time.perf_counter()
            assert published.primary.ok and all(m.ok for m in published.mirrors)
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            sent = git("count-objects", "-v", cwd=root / "mirror.git")
            packed = next(line for line in sent.splitlines() if line.startswith("size-pack"))
            print(f"- {label}: build {built - start:.1f} s ({len(report.written):,} files "
                  f"written), publication {done - built:.1f} s ({published.files:,} files, "
                  f"{size / 2**20:.0f} MB; mirror's packs now {packed.split()[1]} KiB)")

        publication("first")
        write_article(archive, articles, rng)
        git("add", "-A", cwd=archive)
        git("commit", "-qm", "one more", cwd=archive)
        publication("after one new article")
        publication("nothing new")
        # The workflow's hour: a fresh shallow clone, one new article, a first build.
        runner = root / "runner"
        git("push", "-q", "origin", "main", cwd=archive)
        git("clone", "-q", "--depth", "1", (root / "primary.git").as_uri(), str(runner), cwd=root)
        write_article(runner, articles + 1, rng)
        git("add", "-A", cwd=runner)
        git("commit", "-qm", "one more", cwd=runner)
        archive, out = runner, root / "runner-site"
        publication("from a shallow clone (the workflow), after one new article")
        commits = git("rev-list", "--count", "site", cwd=root / "primary.git")
        print(f"\nThe branch site on the primary: {commits} commit.")


if __name__ == "__main__":
    main()
