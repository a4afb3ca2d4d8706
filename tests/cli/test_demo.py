"""The README's first command: `newsmirror demo`, as a newcomer runs it."""

import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_demo_mirrors_edits_and_idles(tmp_path: Path):
    done = run("demo", "--dir", "d", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    run1, run2, run3 = text.split("== Run ")[1:4]
    assert "voa: 3 new" in run1 and "bbc: 2 new" in run1 and "rfi: 1 new" in run1
    assert "broken: FAILED, an HTML page, not a feed" in run1 and "pushed to origin/main" in run1
    assert "voa: 0 new, 1 updated" in run2
    assert "nothing to commit" in run3 and "voa: not modified" in run3
    archive = tmp_path / "d" / "archive"
    log = subprocess.run(["git", "log", "--format=%s"], cwd=archive, capture_output=True, text=True).stdout
    assert log.splitlines() == ["Mirror 1 updated article from voa", "Mirror 6 new articles from voa, bbc, rfi"]
    remote_head = subprocess.run(["git", "rev-parse", "main"], cwd=tmp_path / "d" / "remote.git",
                                 capture_output=True, text=True).stdout
    local_head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=archive, capture_output=True, text=True).stdout
    assert remote_head == local_head
    assert (tmp_path / "d" / "site" / "index.html").is_file()
    # The edited article changed in place; the dateless one kept its first-seen time.
    edited = next((archive / "articles" / "voa").rglob("*两国领导人会晤*.md"))
    assert "（更新）" in edited.read_text()
    # Running the demo again starts over cleanly.
    again = run("-q", "demo", "--dir", "d", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep me")
    done = run("demo", "--dir", "mine", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a demo folder" in done.stderr
    assert (tmp_path / "mine" / "precious.txt").read_text() == "keep me"


def test_help_everywhere(tmp_path: Path):
    for command in ([], ["run"], ["demo"], ["sources"], ["sources", "import"], ["rebuild"], ["site"],
                    ["serve"], ["init"], ["archive"], ["watch"], ["check"]):
        done = run(*command, "--help", cwd=tmp_path)
        assert done.returncode == 0 and "Usage:" in done.stdout, command


def test_a_bad_configuration_exits_2_with_file_and_key(tmp_path: Path):
    (tmp_path / "newsmirror.toml").write_text("[[sources]]\nslug = 'x'\nname = 'X'\nurl = 'gopher://a'\n")
    done = run("run", cwd=tmp_path)
    assert done.returncode == 2
    assert "newsmirror.toml: sources[0] (x).url:" in done.stderr
