"""`newsmirror init`: a real repository, a configuration that loads, a sound workflow."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import bare_remote, git
from newsmirror.cli import app
from newsmirror.cli.init import CONFIG_FILE, REQUEST_WORKFLOW_FILE, WORKFLOW_FILE, cron_line
from newsmirror.config import DEFAULT_IMAGE_PROXY, load_config, parse_config
from newsmirror.archive.git import Repo
from newsmirror.publish.workflows import MIRROR_SECRETS


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_remote(tmp_path / "remote.git")


@pytest.fixture
def archive(tmp_path: Path, remote: Path) -> Path:
    folder = tmp_path / "news"
    result = invoke("init", str(folder), "--remote", str(remote))
    assert result.exit_code == 0, result.output
    return folder


def test_init_makes_a_repository_with_one_commit_of_the_starter_files(archive: Path, remote: Path):
    assert (archive / ".git").is_dir()
    assert git("remote", "get-url", "origin", cwd=archive) == str(remote)
    assert git("rev-list", "--count", "HEAD", cwd=archive) == "1"
    committed = set(git("ls-files", cwd=archive).splitlines())
    wheels = {p for p in committed if p.startswith(".newsmirror/dist/")}
    assert committed - wheels == {CONFIG_FILE, "README.md", WORKFLOW_FILE, REQUEST_WORKFLOW_FILE,
                                  "requirements.txt", ".newsmirror/constraints.txt", ".gitignore",
                                  ".github/MIRRORS.md"}
    assert len(wheels) <= 1  # this test environment's newsmirror is editable: one wheel
    assert git("status", "--porcelain", cwd=archive) == ""
    assert git("ls-remote", str(remote), cwd=archive) == "", "init pushes nothing"


def test_the_configuration_loads_with_the_bundled_sources(archive: Path):
    from newsmirror.sources.bundled import bundled_sources

    config = load_config(archive / CONFIG_FILE)
    assert config.archive == archive.resolve()
    assert [s.slug for s in config.sources] == [entry["slug"] for entry in bundled_sources()]
    # init writes the very default a config without [images] proxy gets.
    assert config.image_proxy == DEFAULT_IMAGE_PROXY
    assert parse_config({"bundled_sources": True}, file="t.toml", base=archive).image_proxy \
        == config.image_proxy
    assert config.branch == "main" and config.push
    text = (archive / CONFIG_FILE).read_text(encoding="utf-8")
    for table in ("[archive]", "[fetch]", "[images]", "[defaults]"):
        assert table in text
    assert "bundled_sources = true" in text


def test_no_bundled_writes_explicit_sources(tmp_path: Path):
    folder = tmp_path / "own"
    result = invoke("init", str(folder), "--no-bundled")
    assert result.exit_code == 0, result.output
    config = load_config(folder / CONFIG_FILE)
    assert len(config.sources) == 2
    assert all(s.url.startswith("https://") for s in config.sources)
    assert "bundled_sources = false" in (folder / CONFIG_FILE).read_text(encoding="utf-8")
    assert not Repo(folder).has_remote("origin")


def test_the_workflow_runs_hourly_off_the_hour_one_at_a_time(archive: Path):
    import yaml

    text = (archive / WORKFLOW_FILE).read_text(encoding="utf-8")
    assert "\t" not in text
    flow = yaml.safe_load(text)
    [cron] = [entry["cron"] for entry in flow[True]["schedule"]]  # YAML 1.1 reads `on` as true
    minute, hour, *rest = cron.split()
    assert minute.isdigit() and 0 < int(minute) < 60 and hour == "*" and rest == ["*", "*", "*"]
    assert "workflow_dispatch" in flow[True]
    assert flow["concurrency"] == {"group": "newsmirror", "cancel-in-progress": False}
    assert flow["permissions"] == {"contents": "write", "actions": "write", "issues": "write"}
    steps = flow["jobs"]["mirror"]["steps"]
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert uses["actions/checkout"]["with"] == {"fetch-depth": 1}  # shallow: see test_workflow_run
    setup = uses["actions/setup-python"]["with"]
    assert setup["python-version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert setup["cache"] == "pip"
    assert setup["cache-dependency-path"].split() == ["requirements.txt", ".newsmirror/constraints.txt"]
    run = [step["run"] for step in steps if "run" in step]
    assert "python -m pip install -r requirements.txt" in run[0]
    assert "newsmirror run --config newsmirror.toml --archive ." in run
    assert any("/actions/workflows/newsmirror.yml/enable" in r for r in run)
    # The mirrors' credentials reach `newsmirror run` (and the request workflow's archive).
    mirror = next(step for step in steps if step.get("name") == "Mirror")
    assert mirror["env"] == {name: f"${{{{ secrets.{name} }}}}" for name in MIRROR_SECRETS}
    # … and to the site's push, to the same hosts; GitHub Pages gets it from the job
    # `pages`, with the official actions and the only Pages permissions in the workflow.
    publish = next(step for step in steps if step.get("name") == "Build and publish the reading site")
    assert publish["env"] == mirror["env"]
    assert "newsmirror site --publish --if-changed --config newsmirror.toml --archive ." in publish["run"]
    pages = flow["jobs"]["pages"]
    assert pages["needs"] == "mirror" and pages["environment"]["name"] == "github-pages"
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"] for s in pages["steps"]] == ["actions/configure-pages@v5",
                                                   "actions/deploy-pages@v4"]
    request = yaml.safe_load((archive / REQUEST_WORKFLOW_FILE).read_text(encoding="utf-8"))
    [archiving] = [step for step in request["jobs"]["archive"]["steps"] if step.get("id") == "archive"]
    assert archiving["env"] == mirror["env"]
    # Pages archived on request go to the site through the mirror workflow, started at once.
    assert request["permissions"] == {"contents": "write", "issues": "write", "actions": "write"}
    dispatch = next(s for s in request["jobs"]["archive"]["steps"]
                    if s.get("name") == "Publish the reading site")
    assert dispatch["run"].startswith("gh workflow run newsmirror.yml ")
    assert dispatch["if"] == "always() && steps.archive.outputs.committed == 'true'"
    # One cache entry: restore the newest by prefix, save under this run's key, delete the rest.
    restore, save = uses["actions/cache/restore"]["with"], uses["actions/cache/save"]["with"]
    assert restore["path"] == save["path"] == ".newsmirror/cache"
    # Of the yearly shards' clones, only the open one's is saved.
    names = [step.get("name") for step in steps]
    leave = steps[names.index("Save the local cache") - 1]
    assert leave["name"] == "Leave the closed shards' clones out of the cache" and leave["if"] == "always()"
    assert "TZ=Asia/Shanghai date +%Y" in leave["run"] and ".newsmirror/cache/shards/*/" in leave["run"]
    assert restore["restore-keys"] == "newsmirror-cache-"
    assert save["key"] == restore["key"] == "newsmirror-cache-${{ github.run_id }}-${{ github.run_attempt }}"
    delete = next(step for step in steps if step.get("name") == "Delete older cache entries")
    assert "gh cache delete" in delete["run"] and delete["continue-on-error"] is True
    assert delete["env"]["KEEP"] == save["key"]
    # Health issues after every run, a red one too, with the job's token.
    issues = next(step for step in steps if step.get("name") == "Report source health in issues")
    assert issues["if"] == "always()" and "continue-on-error" not in issues
    assert issues["run"] == ('newsmirror sources issues --config newsmirror.toml --archive . '
                             '--repo "$GITHUB_REPOSITORY"')
    assert issues["env"] == {"GH_TOKEN": "${{ github.token }}"}
    # The cache is saved after a red run too: its state (failure counts, backoff, ETags)
    # exists nowhere else when the push failed.
    assert next(s for s in steps if s.get("uses", "").startswith("actions/cache/save"))["if"] == "always()"
    requirements = (archive / "requirements.txt").read_text(encoding="utf-8")
    assert not re.search(r"^newsmirror\s*==", requirements, re.M), "never an unpublished index name"
    assert "-c .newsmirror/constraints.txt" in requirements.splitlines()


def test_the_cron_line_is_printed_and_in_the_readme(tmp_path: Path):
    folder = tmp_path / "cron"
    result = invoke("init", str(folder))
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("17 * * * * cd ") and line.endswith("run >> newsmirror.log 2>&1")
    assert str(folder.resolve()) in line
    assert line in (folder / "README.md").read_text(encoding="utf-8")
    assert cron_line(Path("/a b")) == "17 * * * * cd '/a b' && newsmirror run >> newsmirror.log 2>&1"


def test_the_cron_line_names_newsmirror_by_a_path_cron_finds(tmp_path: Path):
    """cron runs with PATH=/usr/bin:/bin: a bare `newsmirror` from a virtual environment
    would be "command not found" every hour, in a log nobody reads."""
    script = Path(sys.executable).with_name("newsmirror")
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run([str(script), "init", str(tmp_path / "a")], cwd=tmp_path, env=env,
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    command = line.split(" && ", 1)[1].removesuffix(" run >> newsmirror.log 2>&1")
    assert command == shlex.quote(str(script))
    version = subprocess.run(f"{command} --version", shell=True, cwd=tmp_path, env=env,
                             check=False, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("newsmirror "), version.stderr


def test_init_refuses_a_folder_that_already_has_a_configuration(archive: Path):
    before = (archive / CONFIG_FILE).read_bytes()
    head = git("rev-parse", "HEAD", cwd=archive)
    result = invoke("init", str(archive))
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (archive / CONFIG_FILE).read_bytes() == before
    assert git("rev-parse", "HEAD", cwd=archive) == head


def test_init_keeps_what_an_existing_clone_already_has(tmp_path: Path):
    folder = tmp_path / "clone"
    folder.mkdir()
    git("init", "-q", "-b", "trunk", cwd=folder)
    (folder / "README.md").write_text("mine\n")
    result = invoke("init", str(folder))
    assert result.exit_code == 0, result.output
    assert (folder / "README.md").read_text() == "mine\n"
    assert load_config(folder / CONFIG_FILE).branch == "trunk"


def test_the_first_run_after_init_commits_and_pushes(archive: Path, remote: Path):
    from newsmirror.demo.server import DemoServer
    from newsmirror.jobs.mirror import run_mirror

    data = tomllib.loads((archive / CONFIG_FILE).read_text(encoding="utf-8"))
    with DemoServer() as demo:
        data["bundled_sources"] = False
        data["sources"] = [{"slug": "voa", "name": "美国之音", "url": f"{demo.base}/voa.xml"}]
        config = parse_config(data, file=str(archive / CONFIG_FILE), base=archive)
        report = asyncio.run(run_mirror(config))
    assert report.new > 0 and report.commit and report.push and report.push.ok, report.push
    assert git("rev-list", "--count", "HEAD", cwd=archive) == "2"
    assert git("rev-parse", "main", cwd=remote) == git("rev-parse", "HEAD", cwd=archive)
    assert (archive / "feeds" / "voa.xml").is_file()


def test_init_documents_each_kind_of_mirror_host_and_its_secret(archive: Path):
    doc = (archive / ".github" / "MIRRORS.md").read_text(encoding="utf-8")
    for host in ("**GitHub**", "**GitLab**", "**Codeberg**", "**Gitea / Forgejo**", "**A local path**"):
        assert host in doc
    for name in MIRROR_SECRETS:
        assert f"`{name}`" in doc or name.removeprefix("NEWSMIRROR_MIRROR") in doc
    assert "Deploy keys" in doc and "write_repository" in doc and "write:repository" in doc
    assert ".github/MIRRORS.md" in (archive / "README.md").read_text(encoding="utf-8")
    # The commented example in the configuration, once uncommented, is a valid mirror.
    text = (archive / CONFIG_FILE).read_text(encoding="utf-8")
    text = text.replace("# [[archive.mirrors]]", "[[archive.mirrors]]").replace(
        '# name = "codeberg"', 'name = "codeberg"').replace(
        '# url = "git@codeberg.org', 'url = "git@codeberg.org')
    [mirror] = parse_config(tomllib.loads(text), file="newsmirror.toml", base=archive).mirrors
    assert (mirror.name, mirror.kind, mirror.web) == ("codeberg", "codeberg",
                                                      "https://codeberg.org/you/news-archive")
