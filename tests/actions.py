"""A small local stand-in for a GitHub Actions runner, for the workflows `newsmirror
init` writes: it parses the YAML, evaluates the `${{ }}` expressions and `if:` conditions
the workflows use, runs each step's `run:` script with bash as GitHub does
(`bash --noprofile --norc -eo pipefail`), and replaces the actions by their local
equivalents: actions/checkout by a git clone, actions/setup-python by a virtual
environment of this Python, actions/cache/restore and save by copying a folder to and
from a local store. Steps write outputs to $GITHUB_OUTPUT and jobs pass them on
(`outputs:`, `needs.JOB.outputs`). The official Pages actions (configure-pages,
upload-pages-artifact, deploy-pages) need GitHub itself: they are recorded in `not_run`
with their inputs, not run, and get the outcome "skipped". Steps that call the GitHub
API (`gh`) cannot run here either: they are
recorded, not run, and get the outcome "skipped", unless the runner is given a
`FakeGitHub`, a stand-in `gh` (tests/fakegh.py) that keeps a repository's issues, labels
and comments in a JSON file: then they run against it like any other step. Anything else
it does not know fails the test instead of being ignored."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import yaml

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|"""
                    r"""(?P<op>&&|\|\||==|!=|!|\(|\)|,)|"""
                    r"""(?P<name>[A-Za-z_][\w-]*(?:\.(?:\*|[A-Za-z_][\w-]*))*))""")
_STATUS = ("always", "success", "failure", "cancelled")
OFFLINE_ACTIONS = ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages")
"""Actions that only run on GitHub: recorded with their inputs, not run."""


class UnsupportedError(AssertionError):
    """The workflow uses something this stand-in does not know."""


def _lookup(context: dict, path: str) -> Any:
    values: list[Any] = [context]
    many = False
    for part in path.split("."):
        if part == "*":
            many = True
            values = [v for value in values if isinstance(value, list) for v in value]
            continue
        values = [value.get(part) if isinstance(value, dict) else None for value in values]
    return values if many else values[0]


@dataclass
class Expressions:
    """GitHub's expression language, as far as the generated workflows use it."""

    context: dict
    workspace: Path
    failed: bool = False

    def _hash_files(self, *patterns: str) -> str:
        digest = hashlib.sha256()
        found = False
        for pattern in patterns:
            for path in sorted(self.workspace.glob(pattern)):
                if path.is_file():
                    found = True
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest() if found else ""

    def evaluate(self, expression: str) -> Any:
        source, pos, tokens = [], 0, []
        expression = expression.strip()
        while pos < len(expression):
            match = _TOKEN.match(expression, pos)
            if not match or match.end() == pos:
                raise UnsupportedError(f"cannot read the expression {expression!r} at {pos}")
            pos = match.end()
            tokens.append(match)
        for i, match in enumerate(tokens):
            kind, text = match.lastgroup, match.group(match.lastgroup)
            calls = i + 1 < len(tokens) and tokens[i + 1].group("op") == "("
            if kind == "str":
                source.append(repr(text[1:-1].replace("''", "'")))
            elif kind == "num":
                source.append(text)
            elif kind == "op":
                source.append({"&&": " and ", "||": " or ", "!": " not "}.get(text, text))
            elif calls:
                if text not in (*_STATUS, "contains", "hashFiles", "startsWith"):
                    raise UnsupportedError(f"unknown function {text}() in {expression!r}")
                source.append(f"_f_{text}")
            elif text in ("true", "false", "null"):
                source.append({"true": "True", "false": "False", "null": "None"}[text])
            else:
                source.append(f"_ctx({text!r})")
        namespace = {
            "_ctx": lambda path: _lookup(self.context, path),
            "_f_always": lambda: True, "_f_success": lambda: not self.failed,
            "_f_failure": lambda: self.failed, "_f_cancelled": lambda: False,
            "_f_contains": lambda haystack, needle: (needle in haystack) if isinstance(haystack, list)
            else str(needle).lower() in str(haystack or "").lower(),
            "_f_startsWith": lambda text, prefix: str(text or "").lower().startswith(str(prefix).lower()),
            "_f_hashFiles": self._hash_files,
        }
        return eval("".join(source), namespace)  # our own translation of the expression

    def condition(self, expression: str | None) -> bool:
        """An `if:`: success() unless it names a status function."""
        if expression is None:
            return not self.failed
        expression = str(expression).strip()
        if expression.startswith("${{") and expression.endswith("}}"):
            expression = expression[3:-2]
        value = bool(self.evaluate(expression))
        if not any(re.search(rf"\b{name}\(", expression) for name in _STATUS):
            value = value and not self.failed
        return value

    def substitute(self, text: str) -> str:
        def one(match: re.Match) -> str:
            value = self.evaluate(match.group(1))
            return ("true" if value else "false") if isinstance(value, bool) else \
                "" if value is None else str(value)
        return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


@dataclass
class StepResult:
    name: str
    outcome: str
    """success, failure or skipped (GitHub's step outcome)."""
    conclusion: str
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    """What the step wrote to $GITHUB_OUTPUT."""


class FakeGitHub:
    """GitHub's side of `gh`, on disk: `bin` holds a `gh` that runs tests/fakegh.py
    against `state` (issues, labels and comments per repository, and every call made)
    and, for `gh cache`, the entries of a LocalRunner's `cache_store`."""

    def __init__(self, folder: Path, *, labels: dict[str, list[str]] | None = None,
                 cache_store: Path | None = None):
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        self.state = folder / "github.json"
        self.state.write_text(json.dumps({"repos": {
            repo: {"issues": [], "labels": names} for repo, names in (labels or {}).items()}}))
        program = Path(__file__).with_name("fakegh.py")
        gh = self.bin / "gh"
        caches = f"FAKE_GH_CACHE='{cache_store}' " if cache_store else ""
        gh.write_text(f"#!/bin/sh\n{caches}FAKE_GH_STATE='{self.state}' exec '{sys.executable}' "
                      f"'{program}' \"$@\"\n", encoding="utf-8")
        gh.chmod(0o755)

    def data(self) -> dict:
        return json.loads(self.state.read_text(encoding="utf-8"))

    def add_issue(self, repo: str, number: int, title: str, body: str, labels: list[str]) -> None:
        """An issue someone opened on `repo`."""
        data = self.data()
        entry = data["repos"].setdefault(repo, {"issues": [], "labels": []})
        entry["labels"] = sorted(set(entry["labels"]) | set(labels))
        entry["issues"].append({"number": number, "title": title, "body": body, "labels": labels,
                                "state": "open", "comments": []})
        data["next_number"] = max(data.get("next_number", 0), number)
        self.state.write_text(json.dumps(data, ensure_ascii=False))

    def issues(self, repo: str, *, label: str | None = None) -> list[dict]:
        found = self.data().get("repos", {}).get(repo, {}).get("issues", [])
        return [i for i in found if label is None or label in i["labels"]]

    def calls(self) -> list[list[str]]:
        return self.data().get("calls", [])


@dataclass
class LocalRunner:
    """Runs one job of a workflow file in `workspace`."""

    remote: Path
    """The bare repository actions/checkout clones."""
    workspace: Path
    toolcache: Path
    """Where actions/setup-python makes its environment (kept between runs, like the
    hosted runners' tool cache)."""
    cache_store: Path
    """actions/cache entries: one folder per key."""
    github: dict
    env: dict[str, str] = field(default_factory=dict)
    gh_standins: dict[str, Callable[[Path], None]] = field(default_factory=dict)
    """Step name -> what to do instead of a step that calls the GitHub API."""
    github_api: FakeGitHub | None = None
    """When given, steps that call `gh` run, with its `gh` first on PATH."""
    before_step: dict[str, Callable[[Path], None]] = field(default_factory=dict)
    """Step name -> what else happens just before it runs (say, another push to the remote)."""
    secrets: dict[str, str] = field(default_factory=dict)
    """The repository's secrets (`secrets.NAME`); unset ones are empty, as on GitHub."""
    results: list[StepResult] = field(default_factory=list)
    not_run: list[dict] = field(default_factory=list)
    """The `gh` steps recorded instead of run: {name, run, env, continue-on-error}, and
    the OFFLINE_ACTIONS: {name, uses, with, if}."""
    outputs: dict[str, str] = field(default_factory=dict)
    """The job's `outputs:`, as `needs.JOB.outputs` would show them to a later job."""
    result: str = "skipped"
    """The job's result once run: success, failure or skipped."""

    def base_env(self) -> dict[str, str]:
        home = self.workspace.parent / "home"
        home.mkdir(exist_ok=True)
        keep = ("LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        env = {k: v for k, v in os.environ.items() if k in keep}
        own = sys.prefix if sys.prefix != sys.base_prefix else None  # the test's own venv
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
                if p and not (own and p.startswith(own))]
        venv_bin = self.toolcache / "python" / "bin"
        if venv_bin.is_dir():
            path.insert(0, str(venv_bin))
        env.update({
            "HOME": str(home), "PATH": os.pathsep.join(path), "CI": "true",
            "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_RUN_ID": str(self.github["run_id"]),
            "GITHUB_RUN_ATTEMPT": str(self.github["run_attempt"]),
            "GITHUB_EVENT_NAME": self.github["event_name"],
            "GITHUB_EVENT_PATH": str(self.github["event_path"]),
            "GITHUB_REF_NAME": "main", "RUNNER_TEMP": str(self.workspace.parent / "runner-temp"),
        })
        env.update(self.env)
        if self.github_api is not None:
            env["PATH"] = os.pathsep.join([str(self.github_api.bin), env["PATH"]])
        return env

    def run_job(self, workflow: Path, job: str, needs: dict[str, LocalRunner] | None = None) -> bool:
        """Run `job`; True when it succeeded (GitHub's green). `needs`: the runners of
        the jobs it needs, for `needs.JOB.outputs` and `needs.JOB.result`."""
        data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        spec = data["jobs"][job]
        wanted = spec.get("needs", [])
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if sorted(needs or {}) != sorted(wanted):
            raise UnsupportedError(f"the job {job} needs {wanted}, given {sorted(needs or {})}")
        steps_ctx: dict[str, dict] = {}
        expr = Expressions({"github": self.github, "steps": steps_ctx, "env": {},
                            "secrets": self.secrets,
                            "runner": {"temp": str(self.workspace.parent / "runner-temp")},
                            "needs": {name: {"outputs": r.outputs, "result": r.result}
                                      for name, r in (needs or {}).items()}}, self.workspace)
        self.result = "skipped"
        if "if" in spec and not expr.condition(spec["if"]):
            return True  # the job is skipped: nothing runs, nothing fails
        workflow_env = {k: expr.substitute(v) for k, v in (data.get("env") or {}).items()}
        for step in spec["steps"]:
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            if not expr.condition(step.get("if")):
                self._record(steps_ctx, step, StepResult(name, "skipped", "skipped"))
                continue
            if name in self.before_step:
                self.before_step[name](self.workspace)
            env = {**self.base_env(), **workflow_env}
            env.update({k: expr.substitute(v) for k, v in (step.get("env") or {}).items()})
            if "uses" in step:
                result = self._action(name, step, expr, env)
            else:
                result = self._run(name, step, expr, env)
            if result.outcome == "failure" and not step.get("continue-on-error"):
                expr.failed = True
            elif result.outcome == "failure":
                result.conclusion = "success"
            self._record(steps_ctx, step, result)
        self.outputs = {k: expr.substitute(v) for k, v in (spec.get("outputs") or {}).items()}
        self.result = "failure" if expr.failed else "success"
        return not expr.failed

    def _record(self, steps_ctx: dict, step: dict, result: StepResult) -> None:
        self.results.append(result)
        if "id" in step:
            steps_ctx[step["id"]] = {"outcome": result.outcome, "conclusion": result.conclusion,
                                     "outputs": result.outputs}

    def _run(self, name: str, step: dict, expr: Expressions, env: dict) -> StepResult:
        script = expr.substitute(step["run"])
        if self.github_api is None and re.search(r"(^|[|;&(]\s*|\n\s*)gh\s", script):
            self.not_run.append({"name": name, "run": script, "env": env,
                                 "continue-on-error": bool(step.get("continue-on-error"))})
            if name in self.gh_standins:
                self.gh_standins[name](self.workspace)
            return StepResult(name, "skipped", "skipped")
        path = self.workspace.parent / "runner-temp" / f"step-{len(self.results)}.sh"
        path.parent.mkdir(exist_ok=True)
        path.write_text(script, encoding="utf-8")
        output_file = path.with_suffix(".output")
        output_file.write_text("")
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
                              check=False, cwd=self.workspace,
                              env={**env, "GITHUB_OUTPUT": str(output_file)},
                              capture_output=True, text=True, timeout=600)
        outcome = "success" if done.returncode == 0 else "failure"
        outputs = {}
        for line in output_file.read_text(encoding="utf-8").splitlines():
            if "<<" in line.split("=", 1)[0]:
                raise UnsupportedError(f"multi-line step outputs are not supported: {line!r}")
            key, sep, value = line.partition("=")
            if not sep:
                raise UnsupportedError(f"not an output line: {line!r}")
            outputs[key] = value
        return StepResult(name, outcome, outcome, done.stdout + done.stderr, outputs)

    def _action(self, name: str, step: dict, expr: Expressions, env: dict) -> StepResult:
        action, _, _version = step["uses"].partition("@")
        given = {k: expr.substitute(v) for k, v in (step.get("with") or {}).items()}
        if action in OFFLINE_ACTIONS:
            self.not_run.append({"name": name, "uses": step["uses"], "with": given,
                                 "if": step.get("if")})
            return StepResult(name, "skipped", "skipped")
        if action == "actions/checkout":
            depth = given.get("fetch-depth", "1")
            # git ignores --depth for a plain path: a file:// address makes it shallow.
            args, source = ([], str(self.remote)) if depth == "0" else \
                (["--depth", depth], self.remote.resolve().as_uri())
            subprocess.run(["git", "clone", "-q", *args, source, str(self.workspace)],
                           check=True, capture_output=True, env=env)
            return StepResult(name, "success", "success")
        if action == "actions/setup-python":
            if given.get("python-version") != f"{sys.version_info.major}.{sys.version_info.minor}":
                raise UnsupportedError(f"the workflow wants Python {given.get('python-version')}")
            venv = self.toolcache / "python"
            if not venv.is_dir():
                base = getattr(sys, "_base_executable", None) or shutil.which("python3.11")
                subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
            return StepResult(name, "success", "success")
        if action in ("actions/cache/restore", "actions/cache"):
            target = self.workspace / given["path"]
            prefixes = [given["key"]] + [k.strip() for k in given.get("restore-keys", "").splitlines()
                                          if k.strip()]
            entries = sorted(self.cache_store.iterdir(), key=lambda p: p.stat().st_mtime_ns,
                             reverse=True) if self.cache_store.is_dir() else []
            for prefix in prefixes:
                hit = next((e for e in entries if e.name == prefix or e.name.startswith(prefix)), None)
                if hit is not None:
                    shutil.copytree(hit, target, dirs_exist_ok=True)
                    return StepResult(name, "success", "success", f"restored {hit.name}")
            return StepResult(name, "success", "success", "cache miss")
        if action == "actions/cache/save":
            source = self.workspace / given["path"]
            entry = self.cache_store / given["key"]
            if entry.exists() or not source.is_dir():
                return StepResult(name, "failure", "failure", f"cannot save {entry.name}")
            shutil.copytree(source, entry)
            return StepResult(name, "success", "success", f"saved {entry.name}")
        raise UnsupportedError(f"no local equivalent of the action {step['uses']}")
