"""`newsmirror adopt` through the real command line, on archives built by the tests."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from newsmirror.archive.adoption import MARK
from newsmirror.config import load_config
from tests.adopt.oldarchive import (
    OLD_README,
    TOP_ID,
    Old,
    commit_all,
    init_repo,
    old_list,
    snapshot,
    write_folder,
)

T = 1_677_695_943_000


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)


def build(root: Path) -> None:
    init_repo(root)
    voa = write_folder(root, "voa", [Old(TOP_ID - k, f"美{k}", f"https://www.voachinese.com/a/{k}.html",
                                         f"<p>{k}</p>", T + k * 1000) for k in range(5)])
    write_folder(root, "rfi", [Old(i, f"法{i}", f"https://www.rfi.fr/cn/{i}", "<p>x</p>", T + i)
                               for i in (1000000, 999999)])
    write_folder(root, "自由亚洲电台", [Old(TOP_ID, "自/由", "https://www.rfa.org/1", "<p>r</p>", T)], titled=True)
    write_folder(root, "某网站", [Old(TOP_ID, "无名", "https://example.org/1", "<p>u</p>", T)])
    # A second file holding a link already held (the old mirror archived it twice).
    (root / "articles/voa/1000.md").write_bytes((root / f"articles/voa/{TOP_ID - 1}.md").read_bytes())
    (root / "articles/voa/bad.md").write_bytes(b"not an article\n")
    (root / "articles/voa/901.md").write_bytes(b"not an article\n")
    (root / "articles/voa/900.md").write_bytes(b"<!--1-->\n[\xff](x)\n------\n\nb\n")
    (root / "articles/voa/notes.txt").write_text("hello", encoding="utf-8")
    (root / "lists").mkdir()
    (root / "lists/美国之音.md").write_bytes(old_list("美国之音", "voa", voa))
    (root / "README.md").write_text(OLD_README, encoding="utf-8")
    commit_all(root)


def test_help_names_the_command():
    done = cli("adopt", "--help", cwd=Path.cwd())
    assert done.returncode == 0 and "--write-config" in done.stdout and "layout" in done.stdout


def test_report_then_write_config_is_idempotent(tmp_path: Path):
    archive = tmp_path / "archive"
    build(archive)
    before = snapshot(archive)
    config = tmp_path / "newsmirror.toml"
    config.write_text('# my mirror\n[archive]\npath = "archive"\npush = false\n\n[[sources]]\nslug = "rfi"\n'
                      'name = "法广"\nurl = "https://www.rfi.fr/cn/rss"\n', encoding="utf-8")
    done = cli("adopt", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "10 article files read" in text and "4 could not be read" in text
    assert "       9  articles/<abbr>/<id>.md" in text
    assert "       1  articles/<站名>/<id>_<title>.md" in text
    assert "articles/voa/: 6 files (6 numbered)" in text and "no source configured" in text
    assert "articles/rfi/: 2 files (2 numbered)" in text and "source rfi (法广), list lists/rfi.md" in text
    assert "old list page: lists/美国之音.md" in text
    assert "rfi (法广): 2 files in articles/rfi/" in text
    assert "articles/voa/bad.md: its name is in none of the known layouts" in text
    assert "articles/voa/900.md: not UTF-8" in text
    assert "articles/voa/901.md: not the four-part article layout" in text
    assert "articles/voa/notes.txt: not a Markdown file" in text
    assert (f"https://www.voachinese.com/a/1.html: articles/voa/1000.md, articles/voa/{TOP_ID - 1}.md"
            in text)
    assert "3 folder(s) without a source" in text
    assert config.read_text(encoding="utf-8").count("[[sources]]") == 1  # not asked to write

    done = cli("adopt", "--config", str(config), "--write-config", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote 3 [[sources]] entries" in done.stdout and "(2 ready, 1 commented out" in done.stdout
    written = config.read_text(encoding="utf-8")
    assert written.startswith('# my mirror\n[archive]\npath = "archive"\n')  # the operator's text kept
    loaded = load_config(config)
    by_slug = {s.slug: s for s in loaded.sources}
    assert by_slug["voa"].list_path == "lists/美国之音.md" and by_slug["voa"].url.startswith("https://")
    assert by_slug["rfa"].folder == "自由亚洲电台"  # the station's name, matched to the bundled source
    assert f"{MARK}某网站/" in written and "# [[sources]]" in written  # no feed known: commented out
    assert set(by_slug) == {"rfi", "voa", "rfa"}

    again = cli("adopt", "--config", str(config), "--write-config", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert config.read_text(encoding="utf-8") == written
    assert "every folder has a source" in again.stdout
    assert "articles/自由亚洲电台/: 1 files (1 titled)" in again.stdout and "source rfa" in again.stdout
    assert snapshot(archive) == before and not (archive / ".newsmirror").exists()  # read only


def test_without_a_configuration_it_writes_one(tmp_path: Path):
    archive = tmp_path / "old"
    build(archive)
    config = tmp_path / "new.toml"
    done = cli("adopt", "--config", str(config), "--archive", str(archive), "--write-config", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert data["archive"]["path"] == "old"
    assert load_config(config).archive == archive.resolve()


def test_a_broken_configuration_exits_2_naming_file_and_key(tmp_path: Path):
    config = tmp_path / "newsmirror.toml"
    config.write_text('[[sources]]\nslug = "voa"\nname = "v"\nurl = "https://x.test/"\nfolder = "a/b"\n',
                      encoding="utf-8")
    done = cli("adopt", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{config}: sources[0] (voa).folder: 'a/b' must be the name of one folder" in done.stderr
