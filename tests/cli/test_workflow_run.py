"""The workflow `newsmirror init` writes, run as a runner would run it.

What this covers: an operator runs the real `newsmirror init` (this test environment's
newsmirror, an editable install, so init must commit a wheel of it), points the sources
at a loopback feed server and pushes the archive to a bare repository standing in for
GitHub. Then .github/workflows/newsmirror.yml is parsed and its job run step by step in a
fresh clone, in a fresh virtual environment of this Python (tests/actions.py: checkout is
a git clone, setup-python a venv, cache restore/save a copied folder), with the
workflow's env and the GITHUB_* variables set to local values. The install step is the
workflow's own `python -m pip install -r requirements.txt`; the job must go green and end
with a commit of articles pushed to the bare remote, made by the newsmirror installed
from the committed wheel (not this checkout). A second run on another fresh clone
restores the cache the first saved and pushes the publisher's edit. Then the request
workflow's job runs on an `issues` event asking for a refused address: its install and
archive steps run, and its reply is the file the `gh issue comment` step would post.

What it does not cover: PyPI. To stay fast and offline, pip runs with PIP_NO_INDEX and
PIP_FIND_LINKS pointing at wheels rebuilt from this environment's installed dependencies,
exactly the versions in the generated constraints file (whether PyPI serves them for the
runner's platform is not checked here). The mirror job's `gh` steps (deleting older cache
entries, the keepalive, the source-health issues) run against a stand-in gh
(tests/fakegh.py, whose cache entries are the runner's cache store); in the request
workflow, the step that fetches replies and recent issues is replaced by writing the
empty lists GitHub would return for a new issue, and the reply and close steps are
checked, not run. GitHub's own scheduling, concurrency and permissions are not exercised.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.actions import FakeGitHub, LocalRunner
from tests.cli.test_archive_cli import issue_payload
from tests.helpers import bare_remote, git
from newsmirror.archive.paths import SITE_PUBLISHED
from newsmirror.demo.server import DemoServer
from newsmirror.publish.install import installed_distribution, wheel_of_installed

pytestmark = pytest.mark.slow

OPERATOR = ["-c", "user.name=Operator", "-c", "user.email=operator@example.org"]


def newsmirror_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The operator's `newsmirror` command: this environment's console script."""
    import shutil
    import sys

    script = Path(sys.executable).with_name("newsmirror")
    command = [str(script)] if script.exists() else [shutil.which("newsmirror") or "newsmirror"]
    return subprocess.run([*command, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=300)


def wheelhouse_for(constraints: Path, folder: Path) -> Path:
    """Wheels of the installed distributions the constraints file pins (uncompressed:
    they only need to install, here)."""
    folder.mkdir()
    for line in constraints.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            dist = installed_distribution(name)
            assert dist.version == version, line
            wheel_of_installed(dist, folder, compress=False)
    return folder


def run_mirror_job(tmp: Path, remote: Path, run_id: int, wheels: Path, github: FakeGitHub,
                   *, green: bool = True, **runner_args) -> LocalRunner:
    workspace = tmp / f"run-{run_id}" / "work"
    workspace.parent.mkdir()
    event = workspace.parent / "event.json"
    event.write_text(json.dumps({"schedule": "17 * * * *"}), encoding="utf-8")
    runner = LocalRunner(
        remote=remote, workspace=workspace, toolcache=tmp / "toolcache",
        cache_store=tmp / "actions-cache",
        github={"repository": "operator/news-archive", "run_id": run_id, "run_attempt": 1,
                "token": "not-a-token", "event_name": "schedule", "event_path": str(event),
                "event": {"schedule": "17 * * * *"}},
        env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
             "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        github_api=github,
        **runner_args,
    )
    went_green = runner.run_job(workspace_file(runner), "mirror")
    report = "\n".join(f"{r.name}: {r.outcome}\n{r.output[-3000:]}" for r in runner.results)
    assert went_green == green, report
    return runner


def workspace_file(runner: LocalRunner) -> Path:
    """The workflow as committed on the remote (the runner reads it from the pushed
    commit, before checkout)."""
    text = subprocess.run(["git", "--git-dir", str(runner.remote), "show",
                           "main:.github/workflows/newsmirror.yml"], check=True,
                          capture_output=True, text=True).stdout
    path = runner.workspace.parent / "newsmirror.yml"
    path.write_text(text, encoding="utf-8")
    return path


def in_pack(remote: Path) -> int:
    """Objects in the remote's packs (an object pushed again counts again)."""
    counts = dict(line.split(": ") for line in git("count-objects", "-v", cwd=remote).splitlines())
    return int(counts["in-pack"])


def objects_of(remote: Path, *refs: str) -> set[str]:
    return {line.split()[0] for line in git("rev-list", "--objects", *refs, cwd=remote).splitlines()}


def assert_site_published(site: Path, *remotes: Path) -> str:
    """The branch `site` of each remote is one commit holding exactly the built site;
    returns that commit."""
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    files.discard(".newsmirror-site.db")
    assert {"index.html", "search.html", "feeds/all.xml", "feeds/voa.xml"} <= files
    commits = {git("rev-list", "site", cwd=remote) for remote in remotes}
    assert len(commits) == 1 and len(commits.pop().split()) == 1
    for remote in remotes:
        assert set(git("ls-tree", "-r", "--name-only", "-z", "site", cwd=remote).split("\0")) \
            - {""} == files
        assert git("show", "site:index.html", cwd=remote) == (site / "index.html").read_text().strip()
    return git("rev-parse", "site", cwd=remotes[0])


def assert_pages_job(tmp: Path, mirror_job: LocalRunner, *, deploys: bool) -> None:
    """The `pages` job after `mirror_job`: its official actions, with the Pages
    permissions and environment, only when the mirror job published the site."""
    import yaml

    flow = workspace_file(mirror_job)
    spec = yaml.safe_load(flow.read_text(encoding="utf-8"))["jobs"]["pages"]
    assert spec["permissions"] == {"pages": "write", "id-token": "write"}
    assert spec["environment"] == {"name": "github-pages",
                                   "url": "${{ steps.deployment.outputs.page_url }}"}
    workspace = mirror_job.workspace.parent / "pages"
    job = LocalRunner(remote=mirror_job.remote, workspace=workspace, toolcache=tmp / "toolcache",
                      cache_store=tmp / "actions-cache", github=mirror_job.github)
    assert job.run_job(flow, "pages", needs={"mirror": mirror_job})
    assert [(s["uses"], s["with"]) for s in job.not_run] == (
        [("actions/configure-pages@v5", {}), ("actions/deploy-pages@v4", {})] if deploys else [])


def test_the_generated_workflow_installs_runs_and_pushes(tmp_path: Path):
    remote = bare_remote(tmp_path / "remote.git")
    archive = tmp_path / "operator" / "news-archive"
    with DemoServer() as demo:
        made = newsmirror_cli("init", str(archive), "--remote", str(remote), cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert "newsmirror for the workflows:" in made.stdout and "wheel" in made.stdout
        requirements = (archive / "requirements.txt").read_text(encoding="utf-8")
        assert not re.search(r"^newsmirror\s*==", requirements, re.M), "never an index name"
        [wheel] = (archive / ".newsmirror" / "dist").glob("newsmirror-*.whl")
        assert f"./.newsmirror/dist/{wheel.name}" in requirements.splitlines()
        assert git("ls-files", ".newsmirror", cwd=archive).split() == [
            ".newsmirror/constraints.txt", f".newsmirror/dist/{wheel.name}"]

        # The operator's edit: two sample sources on the loopback server; then the push.
        config = archive / "newsmirror.toml"
        text = config.read_text(encoding="utf-8").replace("bundled_sources = true",
                                                          "bundled_sources = false")
        text += "".join(f'\n[[sources]]\nslug = "{slug}"\nname = "{name}"\nurl = "{demo.base}/{slug}.xml"\n'
                        for slug, name in (("voa", "美国之音"), ("bbc", "BBC 中文")))
        # A mirror whose address (with a token, on a real host) is a repository secret.
        text = text.replace("[fetch]", '[[archive.mirrors]]\nname = "gitea"\n'
                            'url_env = "NEWSMIRROR_MIRROR_GITEA"\nkind = "gitea"\n'
                            'web = "https://gitea.example.org/me/news"\n\n[fetch]', 1)
        mirror = bare_remote(tmp_path / "mirror.git")
        secrets = {"NEWSMIRROR_MIRROR_GITEA": mirror.as_uri()}
        config.write_text(text, encoding="utf-8")
        git(*OPERATOR, "commit", "-qam", "My sources", cwd=archive)
        git("push", "-q", "origin", "main", cwd=archive)
        before = git("rev-parse", "main", cwd=remote)

        wheels = wheelhouse_for(archive / ".newsmirror" / "constraints.txt", tmp_path / "wheels")
        github = FakeGitHub(tmp_path / "github", cache_store=tmp_path / "actions-cache")
        first = run_mirror_job(tmp_path, remote, 1001, wheels, github, secrets=secrets)

        after = git("rev-parse", "main", cwd=remote)
        assert after != before
        assert git("rev-list", "--count", f"{before}..{after}", cwd=remote) == "1"
        added = git("diff", "--name-only", before, after, cwd=remote).splitlines()
        assert any(p.startswith("articles/voa/") for p in added), added
        assert any(p.startswith("articles/bbc/") for p in added), added
        assert "lists/voa.md" in added
        assert git("log", "-1", "--format=%an", "main", cwd=remote) == "newsmirror"
        # The checkout was shallow; the new, empty mirror still got the whole history.
        assert git("rev-parse", "main", cwd=mirror) == after
        assert git("rev-list", "--count", "main", cwd=mirror) == git(
            "rev-list", "--count", "main", cwd=remote)
        assert "gitea.example.org/me/news" in git("show", "main:README.md", cwd=remote)

        # The newsmirror that ran is the committed wheel, installed into the fresh venv.
        python = tmp_path / "toolcache" / "python" / "bin" / "python"
        shown = subprocess.run(
            [str(python), "-c", "import json, newsmirror; from importlib import metadata; "
             "d = metadata.distribution('newsmirror'); "
             "print(json.dumps([newsmirror.__file__, d.read_text('direct_url.json')]))"],
            cwd=tmp_path, capture_output=True, text=True, check=True)
        module, direct_url = json.loads(shown.stdout)
        assert module.startswith(str(tmp_path / "toolcache")), module
        assert json.loads(direct_url)["url"].endswith(f"/run-1001/work/.newsmirror/dist/{wheel.name}")

        # Every step ran, the GitHub API ones against the stand-in gh: the health issues
        # (none: both sources are ok), the cache clean-up, the keepalive; only the upload
        # for GitHub Pages cannot run here.
        [upload] = first.not_run
        assert upload["uses"] == "actions/upload-pages-artifact@v3"
        outcomes = {r.name: r.outcome for r in first.results}
        assert outcomes.pop("Upload the site for GitHub Pages") == "skipped"
        assert set(outcomes.values()) == {"success"}, outcomes
        # The site was built and published: the branch `site` on the repository and the
        # mirror is one commit of the folder the upload step hands to GitHub Pages.
        site = Path(upload["with"]["path"])
        assert site == first.workspace.parent / "runner-temp" / "site"
        assert first.outputs == {"site": "true"}
        first_site = assert_site_published(site, remote, mirror)
        assert_pages_job(tmp_path, first, deploys=True)
        calls = github.calls()
        assert ["issue", "list", "--label", "source-health", "--state", "open", "--json",
                "number,title,body", "--limit", "1000", "--repo", "operator/news-archive"] in calls
        assert github.issues("operator/news-archive") == []
        assert ["api", "--method", "PUT",
                "repos/operator/news-archive/actions/workflows/newsmirror.yml/enable"] in calls
        assert (tmp_path / "actions-cache" / "newsmirror-cache-1001-1" / "catalog.sqlite").is_file()

        # The next hour, on another fresh clone: the cache comes back, the edit is pushed.
        demo.round = 2
        operator = tmp_path / "operator-clone"

        def the_operator_pushes_meanwhile(work: Path) -> None:
            # After the shallow checkout, before the run: the remote moves on.
            git("clone", "-q", str(remote), str(operator), cwd=tmp_path)
            (operator / "NOTES.md").write_text("operator's notes\n", encoding="utf-8")
            git("add", "NOTES.md", cwd=operator)
            git(*OPERATOR, "commit", "-qm", "Notes", cwd=operator)
            git("push", "-q", "origin", "main", cwd=operator)
            assert git("rev-parse", "--is-shallow-repository", cwd=work) == "true"

        git("config", "transfer.unpackLimit", "1", cwd=mirror)  # keep each push's pack
        packed, had = in_pack(mirror), objects_of(mirror, "main", "site")
        old_site = objects_of(mirror, "site")
        second = run_mirror_job(tmp_path, remote, 1002, wheels, github, secrets=secrets,
                                before_step={"Mirror": the_operator_pushes_meanwhile})
        restored = next(r for r in second.results if r.name == "Restore the local cache")
        assert restored.output == "restored newsmirror-cache-1001-1"
        notes = git("rev-parse", "main", cwd=operator)
        # The run rebased onto the operator's commit and pushed: one linear history.
        assert git("rev-list", "--count", f"{after}..main", cwd=remote) == "2"
        assert git("rev-parse", "main~1", cwd=remote) == notes
        assert git("show", "main:NOTES.md", cwd=remote) == "operator's notes"
        edited = git("diff", "--name-only", notes, "main", cwd=remote).splitlines()
        assert any(p.startswith("articles/voa/") for p in edited), edited
        assert git("rev-parse", "main", cwd=mirror) == git("rev-parse", "main", cwd=remote)
        # An ordinary hour never fetched the history, rebase and mirror push included.
        assert git("rev-parse", "--is-shallow-repository", cwd=second.workspace) == "true"
        # The edit changed the archive: the site went out again, replacing the branch.
        assert second.outputs == {"site": "true"}
        assert assert_site_published(Path(second.not_run[0]["with"]["path"]), remote,
                                     mirror) != first_site
        # From the shallow checkout, the mirror was sent the objects it lacked (the new
        # commits, what changed in the site) and a few it had (the push of main compares
        # commits), never the part of the site that did not change.
        kept = len(objects_of(mirror, "site") & old_site)
        lacked = len(objects_of(mirror, "main", "site") - had)
        assert lacked <= in_pack(mirror) - packed < lacked + kept, (in_pack(mirror) - packed,
                                                                    lacked, kept)
        # One cache entry is kept: this run's; the older one was deleted with gh.
        assert [p.name for p in (tmp_path / "actions-cache").iterdir()] == ["newsmirror-cache-1002-1"]
        assert ["cache", "delete", "newsmirror-cache-1001-1", "--repo",
                "operator/news-archive"] in github.calls()

        # An hour with no news: nothing is committed, the site is neither rebuilt nor
        # deployed, and the branch stays as it was.
        published = git("rev-parse", "site", cwd=remote)
        idle = run_mirror_job(tmp_path, remote, 1003, wheels, github, secrets=secrets)
        assert git("rev-parse", "main", cwd=remote) == git("rev-parse", "main", cwd=mirror)
        assert idle.outputs == {"site": ""} and idle.not_run == []
        step = next(r for r in idle.results if r.name == "Build and publish the reading site")
        assert step.outcome == "success" and "nothing to do" in step.output
        assert not (idle.workspace.parent / "runner-temp" / "site").exists()
        assert git("rev-parse", "site", cwd=remote) == published
        assert_pages_job(tmp_path, idle, deploys=False)

        # A request from the repository's owner, on the same runner image (tool cache).
        workspace = tmp_path / "request" / "work"
        workspace.parent.mkdir()
        payload = issue_payload("请存档 http://10.0.0.1/secret", number=7, association="OWNER")
        event = workspace.parent / "event.json"
        event.write_text(json.dumps(payload), encoding="utf-8")

        def no_replies_yet(work: Path) -> None:
            (work / "replies.json").write_text("[]")
            (work / "recent.json").write_text("[]")

        flow = workspace.parent / "archive-request.yml"
        flow.write_text(git("--git-dir", str(remote), "show",
                            "main:.github/workflows/archive-request.yml", cwd=tmp_path))
        runner = LocalRunner(
            remote=remote, workspace=workspace, toolcache=tmp_path / "toolcache",
            cache_store=tmp_path / "actions-cache",
            github={"repository": "reader/mirror", "run_id": 2001, "run_attempt": 1,
                    "token": "not-a-token", "event_name": "issues", "event_path": str(event),
                    "event": payload},
            env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
                 "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            gh_standins={"Look up earlier replies and requests": no_replies_yet})
        assert not runner.run_job(flow, "archive")  # a page could not be archived: red
        outcomes = {r.name: r.outcome for r in runner.results}
        assert outcomes["Install newsmirror"] == "success"
        # The hourly run's cache entry, restored (and not saved again): its catalog, and
        # what only the site's publication writes there.
        assert outcomes["Restore the local cache"] == "success"
        assert (workspace / SITE_PUBLISHED).is_file()
        assert "Save the local cache" not in outcomes
        assert outcomes["Archive the pages named in the issue"] == "failure"
        assert outcomes["Close the issue when every page was archived"] == "skipped"
        [reply_step] = [s for s in runner.not_run if s["name"] == "Reply on the issue"]
        assert reply_step["run"] == ('gh issue comment 7 --repo "$GITHUB_REPOSITORY" '
                                     "--body-file comment.md")
        reply = (workspace / "comment.md").read_text(encoding="utf-8")
        assert reply.startswith("<!-- newsmirror-request -->\n已存档 0/1 个网页。")
        assert "10.0.0.1 is a private address" in reply


def test_the_generated_workflow_runs_a_sharded_archive(tmp_path: Path):
    """[archive] rotate = "yearly" under the generated workflow: this year's articles go to
    the shard `<name>-<YEAR>` (a bare remote beside the main one, as on a host), the
    shard's token is a secret the workflow hands to newsmirror and that no file keeps, the
    saved cache holds the open shard's clone and no closed one's, and the next run, on a
    fresh checkout with the restored cache, takes the clone from it and pushes its update
    there."""
    from newsmirror.archive.shards import SHARD_TOKEN_ENV, run_year

    year = run_year(int(time.time() * 1000))
    remote = bare_remote(tmp_path / "news-archive.git")
    shard_remote = bare_remote(tmp_path / f"news-archive-{year}.git")
    archive = tmp_path / "operator" / "news-archive"
    token = "github_pat_never-shown-0123456789"
    secrets = {SHARD_TOKEN_ENV: token}
    with DemoServer() as demo:
        made = newsmirror_cli("init", str(archive), "--remote", str(remote), cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        config = archive / "newsmirror.toml"
        text = config.read_text(encoding="utf-8").replace("bundled_sources = true", "bundled_sources = false")
        text = text.replace("list_size = 300\n", 'list_size = 300\nrotate = "yearly"\n', 1)
        text += f'\n[[sources]]\nslug = "voa"\nname = "美国之音"\nurl = "{demo.base}/voa.xml"\n'
        config.write_text(text, encoding="utf-8")
        # An archive of earlier years (its articles stay in the main repository) that
        # rotates from this year on (a first run would start with the next).
        old = archive / "articles/voa/2025/06/旧闻-0123456789ab.md"
        old.parent.mkdir(parents=True)
        old.write_text("<!--1750000000000-->\n[旧闻](https://voa.test/old)\n------\n\n旧闻。\n", encoding="utf-8")
        (archive / "shards.json").write_text(json.dumps({
            "version": 1, "first_year": year, "main": {"name": "news-archive", "articles": 1},
            "shards": []}) + "\n", encoding="utf-8")
        git("add", "-A", cwd=archive)
        git(*OPERATOR, "commit", "-qm", "My sources, in yearly shards", cwd=archive)
        git("push", "-q", "origin", "main", cwd=archive)
        before = git("rev-parse", "main", cwd=remote)

        wheels = wheelhouse_for(archive / ".newsmirror" / "constraints.txt", tmp_path / "wheels")
        github = FakeGitHub(tmp_path / "github", cache_store=tmp_path / "actions-cache")
        def a_closed_shards_clone(work: Path) -> None:  # as a lost cache makes a run clone one
            git("init", "-q", str(work / ".newsmirror/cache/shards" / str(year - 1)), cwd=work)

        first = run_mirror_job(tmp_path, remote, 1001, wheels, github, secrets=secrets,
                               before_step={"Leave the closed shards' clones out of the cache": a_closed_shards_clone})
        added = git("diff", "--name-only", before, "main", cwd=remote).splitlines()
        assert "lists/voa.md" in added and not any(p.startswith("articles/") for p in added), added
        in_shard = git("ls-tree", "-r", "--name-only", "main", cwd=shard_remote).splitlines()
        assert any(p.startswith("articles/voa/") for p in in_shard), in_shard
        assert f"（分卷 {year}）" in git("show", "main:lists/voa.md", cwd=remote)
        # The saved cache has the catalog and the open shard's clone, no closed one's.
        [entry] = (tmp_path / "actions-cache").iterdir()
        assert (entry / "catalog.sqlite").is_file()
        assert sorted(p.name for p in (entry / "shards").iterdir()) == [str(year)]

        demo.round = 2
        second = run_mirror_job(tmp_path, remote, 1002, wheels, github, secrets=secrets)
        restored = next(r for r in second.results if r.name == "Restore the local cache")
        assert restored.output == "restored newsmirror-cache-1001-1"
        mirror_step = next(r for r in second.results if r.name == "Mirror")
        assert "cloned" not in mirror_step.output, mirror_step.output  # the cache's clone served
        clone = second.workspace / ".newsmirror/cache/shards" / str(year)
        assert git("rev-parse", "HEAD", cwd=clone) == git("rev-parse", "main", cwd=shard_remote)
        assert git("rev-list", "--count", "main", cwd=shard_remote) == "2"  # the update went there
        [entry] = (tmp_path / "actions-cache").iterdir()
        assert entry.name == "newsmirror-cache-1002-1" and (entry / "shards" / str(year) / ".git").is_dir()

    # The token was handed to newsmirror in the environment only: no file of either run
    # (clones' configs included), no cache entry and no output has it.
    for folder in (tmp_path / "run-1001", tmp_path / "run-1002", tmp_path / "actions-cache"):
        found = subprocess.run(["grep", "-rlF", token, str(folder)], capture_output=True, text=True)
        assert found.stdout == "", found.stdout
    assert not any(token in r.output for r in first.results + second.results)
    declared = next(s for s in yaml_steps(workspace_file(second)) if s.get("name") == "Mirror")
    assert declared["env"][SHARD_TOKEN_ENV] == f"${{{{ secrets.{SHARD_TOKEN_ENV} }}}}"


def yaml_steps(workflow: Path) -> list[dict]:
    import yaml

    return yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]["mirror"]["steps"]
