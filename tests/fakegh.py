"""A stand-in for GitHub's `gh` CLI, for the workflow tests: the few commands the
generated workflows and `newsmirror sources issues` use, against one JSON file that holds
a repository's issues, labels and comments and records every call. Run as a program (see
`FakeGitHub` in tests/actions.py, which puts a `gh` wrapper on PATH).

It is strict where gh is: a call without GH_TOKEN fails as gh does when not logged in, an
issue cannot get a label the repository does not have, a `label create` of an existing
label needs --force, and anything it does not know fails loudly (exit 1), so a workflow
that starts using more of gh fails its test instead of passing by accident.

Only standard-library code: it runs under whatever Python starts it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

BOT = {"login": "github-actions[bot]", "type": "Bot"}


class Refused(Exception):
    pass


def _issue_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gh", add_help=False, exit_on_error=False)
    parser.add_argument("--repo", "-R", required=True)
    return parser


def _issues(state: dict, repo: str) -> list[dict]:
    return state.setdefault("repos", {}).setdefault(repo, {"issues": [], "labels": []})["issues"]


def _repo(state: dict, repo: str) -> dict:
    return state.setdefault("repos", {}).setdefault(repo, {"issues": [], "labels": []})


def _find(state: dict, repo: str, number: str) -> dict:
    for issue in _issues(state, repo):
        if str(issue["number"]) == str(number).lstrip("#"):
            return issue
    raise Refused(f"GraphQL: Could not resolve to an issue or pull request with the number of {number}.")


def _body(args: argparse.Namespace) -> str:
    if getattr(args, "body_file", None):
        return sys.stdin.read() if args.body_file == "-" else Path(args.body_file).read_text(encoding="utf-8")
    if args.body is None:
        raise Refused("must provide --body or --body-file")
    return args.body


def issue(state: dict, argv: list[str]) -> str:
    verb, rest = argv[0], argv[1:]
    parser = _issue_parser()
    known, _ = parser.parse_known_args(rest)
    if _repo(state, known.repo).get("issues_disabled"):  # gh's own words (cli/cli#178)
        raise Refused(f"the '{known.repo}' repository has disabled issues")
    if verb == "list":
        parser.add_argument("--label", "-l", action="append", default=[])
        parser.add_argument("--state", "-s", default="open", choices=["open", "closed", "all"])
        parser.add_argument("--json", required=True)
        parser.add_argument("--limit", "-L", type=int, default=30)
        args = parser.parse_args(rest)
        rows = [i for i in _issues(state, args.repo)
                if (args.state == "all" or i["state"] == args.state)
                and all(label in i["labels"] for label in args.label)]
        rows = sorted(rows, key=lambda i: -i["number"])[:args.limit]
        fields = args.json.split(",")
        return json.dumps([{f: i[f] for f in fields} for i in rows])
    if verb == "create":
        parser.add_argument("--title", "-t", required=True)
        parser.add_argument("--body", "-b")
        parser.add_argument("--body-file", "-F")
        parser.add_argument("--label", "-l", action="append", default=[])
        args = parser.parse_args(rest)
        repo = _repo(state, args.repo)
        for label in args.label:
            if label not in repo["labels"]:
                raise Refused(f"could not add label: '{label}' not found")
        number = state["next_number"] = state.get("next_number", 0) + 1
        repo["issues"].append({"number": number, "title": args.title, "body": _body(args),
                               "labels": list(args.label), "state": "open", "comments": []})
        return f"https://github.com/{args.repo}/issues/{number}"
    if verb in ("comment", "close", "edit", "reopen"):
        parser.add_argument("number")
        if verb == "comment":
            parser.add_argument("--body", "-b")
            parser.add_argument("--body-file", "-F")
        elif verb == "close":
            parser.add_argument("--comment", "-c")
            parser.add_argument("--reason", "-r", choices=["completed", "not planned"])
        elif verb == "edit":
            parser.add_argument("--title", "-t", required=True)
        args = parser.parse_args(rest)
        found = _find(state, args.repo, args.number)
        if verb == "comment":
            found["comments"].append(_body(args))
        elif verb == "close":
            if args.comment:
                found["comments"].append(args.comment)
            found["state"] = "closed"
        elif verb == "edit":
            found["title"] = args.title
        else:
            found["state"] = "open"
        return f"https://github.com/{args.repo}/issues/{found['number']}"
    raise Refused(f"fake gh: unsupported command: issue {verb}")


def label(state: dict, argv: list[str]) -> str:
    if argv[:1] != ["create"]:
        raise Refused(f"fake gh: unsupported command: label {' '.join(argv[:1])}")
    parser = _issue_parser()
    parser.add_argument("name")
    parser.add_argument("--color", "-c")
    parser.add_argument("--description", "-d")
    parser.add_argument("--force", "-f", action="store_true")
    args = parser.parse_args(argv[1:])
    labels = _repo(state, args.repo)["labels"]
    if args.name in labels and not args.force:
        raise Refused(f"label with name \"{args.name}\" already exists; use `--force` to update its color and description")
    if args.name not in labels:
        labels.append(args.name)
    return ""


def api(state: dict, argv: list[str]) -> str:
    parser = argparse.ArgumentParser(prog="gh api", add_help=False, exit_on_error=False)
    parser.add_argument("endpoint")
    parser.add_argument("--method", "-X", default="GET")
    parser.add_argument("--paginate", action="store_true")
    args = parser.parse_args(argv)
    parts = urlsplit(args.endpoint)
    path = parts.path.strip("/").split("/")
    if args.method == "PUT" and path[-1] == "enable" and "workflows" in path:
        return ""
    if args.method == "GET" and len(path) == 6 and path[0] == "repos" and path[3] == "issues" \
            and path[5] == "comments":
        found = _find(state, f"{path[1]}/{path[2]}", path[4])
        return json.dumps([{"body": body, "user": BOT} for body in found["comments"]])
    if args.method == "GET" and len(path) == 4 and path[0] == "repos" and path[3] == "issues":
        query = parse_qs(parts.query)
        wanted = query.get("labels", [""])[0]
        creator = query.get("creator", [""])[0]
        rows = [{"number": i["number"], "title": i["title"], "user": {"login": i.get("author", "")},
                 "created_at": i.get("created_at", "")}
                for i in _issues(state, f"{path[1]}/{path[2]}")
                if (not wanted or wanted in i["labels"]) and i.get("author", "") == creator]
        return json.dumps(rows)
    raise Refused(f"fake gh: unsupported api call: {args.method} {args.endpoint}")


def cache(state: dict, argv: list[str]) -> str:
    """Actions cache entries: the folders of the runner stand-in's cache store
    ($FAKE_GH_CACHE), newest first as gh lists them."""
    store = Path(os.environ["FAKE_GH_CACHE"]) if os.environ.get("FAKE_GH_CACHE") else None
    parser = _issue_parser()
    if argv[:1] == ["list"]:
        parser.add_argument("--key", "-k", default="")
        parser.add_argument("--limit", "-L", type=int, default=30)
        parser.add_argument("--json")
        parser.add_argument("--jq", "-q")
        args = parser.parse_args(argv[1:])
        entries = sorted(store.iterdir(), key=lambda p: -p.stat().st_mtime_ns) \
            if store and store.is_dir() else []
        keys = [e.name for e in entries if e.name.startswith(args.key)][:args.limit]
        if args.json == "key" and args.jq == ".[].key":
            return "\n".join(keys)
        if args.json and not args.jq:
            return json.dumps([{"key": k} for k in keys])
        raise Refused(f"fake gh: unsupported cache list output: --json {args.json} --jq {args.jq}")
    if argv[:1] == ["delete"]:
        parser.add_argument("key")
        args = parser.parse_args(argv[1:])
        entry = store / args.key if store else None
        if entry is None or not entry.is_dir():
            raise Refused(f"X Could not find a cache matching {args.key} in {args.repo}")
        shutil.rmtree(entry)
        return ""
    raise Refused(f"fake gh: unsupported command: cache {' '.join(argv[:1])}")


COMMANDS = {"issue": issue, "label": label, "api": api, "cache": cache}


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_GH_STATE"])
    with open(state_path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(state_path.read_text(encoding="utf-8")) if state_path.exists() else {}
        state.setdefault("calls", []).append(argv)
        code, output = 0, ""
        try:
            if not os.environ.get("GH_TOKEN"):
                code = 4
                raise Refused("To get started with GitHub CLI, please run:  gh auth login\n"
                              "Alternatively, populate the GH_TOKEN environment variable with a "
                              "GitHub API authentication token.")
            if not argv or argv[0] not in COMMANDS:
                raise Refused(f"fake gh: unsupported command: {' '.join(argv[:1])}")
            output = COMMANDS[argv[0]](state, argv[1:])
        except (Refused, argparse.ArgumentError) as err:
            print(err, file=sys.stderr)
            code = code or 1
        except SystemExit as err:  # argparse on a missing argument
            code = int(err.code or 1)
        state_path.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    if output:
        print(output)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
