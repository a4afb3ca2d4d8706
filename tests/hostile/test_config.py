"""Hostile configurations and event files: each one is a single line naming the file (and
the key) with exit 2, never a traceback or an internal error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = '[[sources]]\nslug = "a"\nname = "A"\nurl = "http://127.0.0.1:9/a.xml"\n'


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def _folder(tmp: Path) -> list[str]:
    (tmp / "conf").mkdir()
    return ["check", "--config", "conf"]


def _deep_array(tmp: Path) -> list[str]:
    (tmp / "deep.toml").write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n" + SOURCE)
    return ["check", "--config", "deep.toml"]


def _user_agent(tmp: Path) -> list[str]:
    (tmp / "ua.toml").write_text('[fetch]\nuser_agent = "新闻镜像 bot"\n' + SOURCE,
                                 encoding="utf-8")
    return ["run", "--config", "ua.toml", "--no-push"]


def _archive_is_the_config(tmp: Path) -> list[str]:
    (tmp / "self.toml").write_text('[archive]\npath = "self.toml"\npush = false\n' + SOURCE)
    return ["run", "--config", "self.toml"]


def _archive_option_is_the_config(tmp: Path) -> list[str]:
    (tmp / "newsmirror.toml").write_text('[archive]\npush = false\n' + SOURCE)
    return ["run", "--archive", "newsmirror.toml"]


def _deep_event(tmp: Path) -> list[str]:
    (tmp / "newsmirror.toml").write_text('[archive]\npush = false\n' + SOURCE)
    (tmp / "event.json").write_text('{"issue":' * 100_000 + "1" + "}" * 100_000)
    return ["archive", "--from-issue", "event.json", "--no-push"]


CASES = {
    "a folder as --config": (_folder, "conf: a folder, not a configuration file"),
    "a 50,000-deep array": (_deep_array, "deep.toml: not valid TOML"),
    "a non-ASCII user_agent": (_user_agent, "ua.toml: fetch.user_agent:"),
    "archive.path is the config file": (_archive_is_the_config, "self.toml: archive.path:"),
    "--archive names the config file": (_archive_option_is_the_config, "--archive: "),
    "a 100,000-deep event": (_deep_event, "event.json: cannot read the event"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_configuration_is_one_line_and_exit_2(tmp_path: Path, case: str):
    make, expected = CASES[case]
    result = cli(*make(tmp_path), cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "error: " in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if case == "archive.path is the config file":
        assert (tmp_path / "self.toml").read_text().startswith("[archive]")  # untouched
