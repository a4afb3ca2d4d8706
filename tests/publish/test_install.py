"""Where the workflows install newsmirror from: chosen from what pip recorded (PEP 610
direct_url.json), else a wheel of the running newsmirror that `init` commits."""

from __future__ import annotations

import zipfile
from pathlib import Path

from typer.testing import CliRunner

from newsmirror import __version__
from newsmirror.cli import app
from newsmirror.publish.install import (
    choose_install, pinned_dependencies, render_requirements, running_install, wheel_of_running,
)
from tests.helpers import git

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_a_git_install_is_pinned_to_its_commit():
    choice = choose_install({"url": "https://github.com/someone/newsmirror.git",
                             "vcs_info": {"vcs": "git", "commit_id": COMMIT,
                                          "requested_revision": "main"}}, "0.1.0")
    assert choice.requirement == f"newsmirror @ git+https://github.com/someone/newsmirror.git@{COMMIT}"
    assert not choice.wheel and COMMIT[:12] in choice.why
    sub = choose_install({"url": "ssh://git@example.org/x/mono.git", "subdirectory": "py",
                          "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, "0.1.0")
    assert sub.requirement.endswith(f"@{COMMIT}#subdirectory=py")


def test_a_download_is_pinned_by_its_hash():
    choice = choose_install({"url": "https://files.example.org/newsmirror-0.1.0.tar.gz",
                             "archive_info": {"hashes": {"sha256": "ab" * 32}}}, "0.1.0")
    assert choice.requirement == ("newsmirror @ https://files.example.org/newsmirror-0.1.0.tar.gz"
                                  f"#sha256={'ab' * 32}")
    legacy = choose_install({"url": "https://files.example.org/n.whl",
                             "archive_info": {"hash": "sha256=" + "cd" * 32}}, "0.1.0")
    assert legacy.requirement.endswith("#sha256=" + "cd" * 32)


def test_what_a_runner_cannot_reach_becomes_a_committed_wheel():
    wheel = "./.newsmirror/dist/newsmirror-0.1.0-py3-none-any.whl"
    for direct_url in (None, {"url": "file:///home/me/newsmirror", "dir_info": {"editable": True}},
                       {"url": "file:///home/me/newsmirror", "dir_info": {}},
                       {"url": "file:///home/me/newsmirror", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
                       {"url": "http://127.0.0.1:8000/n.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
                       {"url": "file:///tmp/newsmirror-0.1.0.whl", "archive_info": {}},
                       {"url": "https://example.org/x.whl", "archive_info": {}},  # no hash
                       {"url": "https://example.org/r", "vcs_info": {"vcs": "hg", "commit_id": "1"}}):
        choice = choose_install(direct_url, "0.1.0")
        assert choice.wheel and choice.requirement == wheel, direct_url
        assert "wheel" in choice.why
    assert "editable" in choose_install({"url": "file:///x", "dir_info": {"editable": True}}, "0.1.0").why


def test_requirements_never_name_an_index_package():
    text = render_requirements(running_install())
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "-c .newsmirror/constraints.txt"
    assert lines[1].startswith(("./.newsmirror/dist/newsmirror-", "newsmirror @ ")), lines
    assert len(lines) == 2


def test_dependencies_are_pinned_to_what_is_installed():
    from importlib import metadata

    pins = dict(pin.split("==") for pin in pinned_dependencies())
    names = {name.lower().replace("_", "-") for name in pins}
    for direct in ("httpx", "lxml", "typer", "feedparser", "nh3", "opencc", "pip"):
        assert direct in names, direct
    assert "brotli" in names  # httpx[brotli]: extras are followed
    assert "pytest" not in names and "newsmirror" not in names  # only the run's needs
    assert pins["httpx"] == metadata.version("httpx")


def test_the_wheel_of_the_running_newsmirror_is_complete_and_reproducible(tmp_path: Path):
    import newsmirror

    first = wheel_of_running(tmp_path / "a")
    second = wheel_of_running(tmp_path / "b")
    assert first.name == f"newsmirror-{__version__}-py3-none-any.whl"
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    package = Path(newsmirror.__file__).parent
    for module in package.rglob("*.py"):
        assert module.relative_to(package.parent).as_posix() in names
    assert "newsmirror/sources/bundled.toml" in names
    info = f"newsmirror-{__version__}.dist-info"
    assert {f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD", f"{info}/entry_points.txt"} <= set(names)
    assert not any("__pycache__" in n or n.endswith((".pyc", "direct_url.json")) for n in names)
    record = zipfile.ZipFile(first).read(f"{info}/RECORD").decode()
    assert len(record.splitlines()) == len(names)


def test_update_install_recommits_what_the_workflows_install(tmp_path: Path):
    folder = tmp_path / "news"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(folder)], catch_exceptions=False).exit_code == 0
    head = git("rev-parse", "HEAD", cwd=folder)
    # Nothing changed since init: nothing to commit.
    same = runner.invoke(app, ["init", "--update-install", str(folder)], catch_exceptions=False)
    assert same.exit_code == 0, same.output
    assert "Nothing changed." in same.stdout and git("rev-parse", "HEAD", cwd=folder) == head
    # An operator's hand edit (an index name) is replaced by what exists.
    (folder / "requirements.txt").write_text("newsmirror==0.1.0\n")
    git("-c", "user.name=o", "-c", "user.email=o@example.org", "commit", "-qam", "edit", cwd=folder)
    fixed = runner.invoke(app, ["init", "--update-install", str(folder)], catch_exceptions=False)
    assert fixed.exit_code == 0, fixed.output
    assert "newsmirror==" not in (folder / "requirements.txt").read_text()
    assert git("log", "-1", "--format=%s", cwd=folder).startswith("Install newsmirror")
    assert git("status", "--porcelain", cwd=folder) == ""
    missing = runner.invoke(app, ["init", "--update-install", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "not a newsmirror archive" in missing.stderr


def test_update_install_waits_for_no_run_it_would_race(tmp_path: Path):
    """A run holds the archive's lock while it commits: --update-install refuses with the
    archive's exit code and writes nothing rather than committing into git's index beside it."""
    from newsmirror.archive.store import archive_lock
    from newsmirror.errors import ARCHIVE

    folder = tmp_path / "news"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(folder)], catch_exceptions=False).exit_code == 0
    (folder / "requirements.txt").write_text("newsmirror==0.1.0\n")
    git("-c", "user.name=o", "-c", "user.email=o@example.org", "commit", "-qam", "edit", cwd=folder)
    head = git("rev-parse", "HEAD", cwd=folder)
    with archive_lock(folder):
        busy = runner.invoke(app, ["init", "--update-install", str(folder)])
    assert busy.exit_code == ARCHIVE, busy.output
    assert "another newsmirror run holds the archive" in busy.stderr
    assert git("rev-parse", "HEAD", cwd=folder) == head
    assert (folder / "requirements.txt").read_text() == "newsmirror==0.1.0\n"
    done = runner.invoke(app, ["init", "--update-install", str(folder)], catch_exceptions=False)
    assert done.exit_code == 0 and git("rev-parse", "HEAD", cwd=folder) != head


def test_a_git_installed_newsmirror_needs_no_wheel_in_the_archive(tmp_path: Path):
    from newsmirror.cli.init import REQUIREMENTS_FILE, build_starter, write_install

    choice = choose_install({"url": "https://github.com/someone/newsmirror",
                             "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, __version__)
    starter = build_starter(tmp_path, bundled=True, branch="main", remote=None, install=choice)
    lines = [line for line in starter.files[REQUIREMENTS_FILE].splitlines()
             if line and not line.startswith("#")]
    assert lines == ["-c .newsmirror/constraints.txt",
                     f"newsmirror @ git+https://github.com/someone/newsmirror@{COMMIT}"]
    assert write_install(tmp_path, choice) == []
    assert not (tmp_path / ".newsmirror" / "dist").exists()
    # An archive that carried a wheel and now installs from git drops the wheel.
    old = wheel_of_running(tmp_path / ".newsmirror" / "dist")
    assert write_install(tmp_path, choice) == [".newsmirror/dist"] and not old.exists()
