"""Start-up (issue 16, item 7): what `newsmirror run` imports before it fetches leaves
out the libraries only some feeds, pages or commands need; they are imported where they
are used. bench/startup.py measures the time; this checks the cause, without timing."""

from __future__ import annotations

import json
import subprocess
import sys

DEFERRED = ("feedparser", "fastfeedparser", "opencc", "dateutil", "markdown_it", "lxml.html",
            "trafilatura", "readability", "jinja2", "rich.progress")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_run_command_and_pipeline_import_none_of_the_deferred_libraries():
    loaded = _imported_after("import newsmirror.cli, newsmirror.cli.run, newsmirror.jobs.mirror, "
                             "newsmirror.checks, newsmirror.config")
    assert "newsmirror.jobs.mirror" in loaded  # the probe did import it
    assert sorted(name for name in DEFERRED if name in loaded) == []


def test_the_deferred_libraries_are_imported_when_used():
    loaded = _imported_after(
        "from newsmirror.parse.feed import parse_feed\n"
        "parse_feed(b'<rss version=\"2.0\"><channel><title>t</title><item><title>a</title>"
        "<link>https://example.com/a</link><pubDate>Tue, 02 Dec 2025 10:00:00 GMT</pubDate>"
        "</item></channel></rss>', content_type='application/rss+xml', url='https://example.com/f')\n"
        "from newsmirror.content.chinese import convert_text\n"
        "assert convert_text('汉字', 's2t') == '漢字'\n"
        "from newsmirror.archive.mdlink import markdown_link, split_link\n"
        # A target with a space: plain ones are known to read as themselves without it.
        "assert split_link(markdown_link('t', 'https://example.com/a b')) == ('t', 'https://example.com/a b')\n")
    assert {"fastfeedparser", "opencc", "markdown_it"} <= loaded


def test_the_command_line_and_the_configuration_import_neither_asyncio_nor_httpx():
    """`newsmirror --help` and `newsmirror check` fetch nothing."""
    loaded = _imported_after("import newsmirror.cli, newsmirror.config, newsmirror.checks")
    assert sorted(name for name in ("asyncio", "httpx", "rich.table") if name in loaded) == []


def test_the_command_table_names_every_command_and_the_module_that_registers_it():
    import pkgutil

    import typer

    import newsmirror.cli as cli

    modules = {m.name for m in pkgutil.iter_modules(cli.__path__)}
    registering = {name for name in modules
                   if hasattr(__import__(f"newsmirror.cli.{name}", fromlist=["_"]), "register")}
    assert set(cli.COMMANDS.values()) == registering
    for module in registering:
        one = cli.build_app([module])
        names = {c.name for c in one.registered_commands} | {g.name for g in one.registered_groups}
        assert names == {c for c, m in cli.COMMANDS.items() if m == module}, module
    assert isinstance(cli.app, typer.Typer)
    assert {c.name for c in cli.app.registered_commands} | {g.name for g in cli.app.registered_groups} \
        == set(cli.COMMANDS)


def test_a_command_line_loads_only_its_own_command_module():
    from newsmirror.cli import command_modules

    assert command_modules(["run", "--force"]) == {"run"}
    assert command_modules(["-q", "serve", "site"]) == {"site"}
    assert command_modules(["sources", "export"]) == {"sources"}
    for everything in ([], ["--help"], ["-v"], ["frob"], ["--", "run"]):
        assert command_modules(everything) is None, everything
    loaded = _imported_after("import sys\nsys.argv = ['newsmirror', 'check', '--help']\n"
                             "import newsmirror.cli\n"
                             "try:\n    newsmirror.cli.main()\nexcept SystemExit:\n    pass")
    assert "newsmirror.cli.check" in loaded
    others = sorted(f"newsmirror.cli.{m}" for m in ("adopt", "archive", "init", "site", "sources"))
    assert [name for name in others if name in loaded] == []
