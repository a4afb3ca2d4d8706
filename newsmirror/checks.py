"""Everything a run would use, checked before anything is touched: `newsmirror check`
and the start of `run`, `archive` and `watch` call `config_problems`.

Loading (config.py) checks the shape of the file, key by key; these checks look at
what the values mean: OpenCC conversion names, CSS selectors, image-proxy placeholders,
addresses, timeouts, git names, and whether there is a remote to push to. Each problem
is a ConfigError naming the file, the key and what is wrong; all of them are returned,
not only the first.
"""

from __future__ import annotations

import math
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from newsmirror.addresses import web_problem
from newsmirror.config import Config, ConfigError, SourceConfig
from newsmirror.archive.git import GitError, Repo

MAX_SECONDS = 24 * 3600
"""A timeout longer than a day is a mistake for an hourly job (and inf/nan never end)."""


def config_problems(config: Config, *, push: bool | None = None) -> list[ConfigError]:
    """Every problem found in `config`, in the file's order; empty when a run can go.
    `push`: whether this run pushes (None: the config's own `archive.push`)."""
    found = _Found(config)
    for index, source in enumerate(config.sources):
        if source.enabled:
            _source(found, index, source)
    for template in config.image_proxy:
        _template(found, "images.proxy", template)
    if config.web_url:
        _url(found, found.archive_key("web_url", older="site_url"), config.web_url)
    for name in ("timeout", "connect_timeout", "max_retry_after"):
        _seconds(found, f"fetch.{name}", getattr(config.fetch, name))
    if not _plain_name(config.branch, branch=True) and not _git_ok("check-ref-format", "--branch", config.branch):
        found.add("archive.branch", f"{config.branch!r} is not a valid git branch name "
                                    "(see `git check-ref-format --branch`)")
    if not _plain_name(config.remote_name) and not _git_ok(
            "check-ref-format", f"refs/remotes/{config.remote_name}/HEAD"):
        found.add("archive.remote_name", f"{config.remote_name!r} is not a valid git remote name")
    pushes = config.push and (push is None or push)
    if pushes:
        _push_target(found, config)
    return found.problems


SITE_BYTES_PER_ARTICLE = 6_250
"""What one site publishes per article it holds (its page, its share of the list pages,
of the feeds and of the search index), measured: bench/site_scale.py --sharded at 100,000
articles, for the main site's own articles: page 4,452 bytes, search 1,354, list pages
269, feeds and the rest 176 (bench/RESULTS-site.md, 2026-12-05)."""


def site_size_warning(config: Config, articles: int | None = None) -> str | None:
    """A warning when the archive, with `rotate = "none"` and no shards, is big enough that
    its one reading site passes what a host publishes (`articles`: how many it holds,
    default: its committed article files); None when it fits or is sharded."""
    from newsmirror.archive.paths import ARTICLES_DIR, SHARDS_INDEX

    if config.rotate != "none" or (config.archive / SHARDS_INDEX).exists():
        return None
    if articles is None:
        try:
            files = Repo(config.archive).out("ls-files", "-z", "--", ARTICLES_DIR) \
                if (config.archive / ".git").exists() else ""
        except GitError:
            return None
        articles = sum(name.endswith(".md") for name in files.split("\0"))
    size = articles * SITE_BYTES_PER_ARTICLE
    limit = int(config.site_max_mb * 1e6)
    if size <= limit:
        return None
    return (f"{config.file}: archive.rotate: the archive holds {articles:,} articles, so its reading "
            f"site is about {size / 1e9:.1f} GB ({SITE_BYTES_PER_ARTICLE:,} bytes per article), past "
            f"the {limit / 1e9:g} GB one site may hold (one site holds about "
            f"{limit // SITE_BYTES_PER_ARTICLE:,} articles). Set rotate = \"yearly\" in [archive]: "
            "each new year's articles then go to a repository of their own, published on a site of "
            "its own (the articles the archive holds now stay on its main site)")


class _Found:
    def __init__(self, config: Config):
        self.config = config
        self.problems: list[ConfigError] = []
        self.raw = _raw(config.file)

    def add(self, key: str, problem: str) -> None:
        error = ConfigError(self.config.file, key, problem)
        if all(str(error) != str(p) for p in self.problems):
            self.problems.append(error)

    def archive_key(self, name: str, *, older: str) -> str:
        """Where the user wrote an [archive] setting that is also read under an older name."""
        archive = self.raw.get("archive")
        return f"archive.{older if isinstance(archive, dict) and older in archive else name}"

    def source_key(self, index: int, source: SourceConfig, name: str) -> str:
        """Where the user wrote a source's setting: its own table, or [defaults]."""
        own = self.raw.get("sources")
        table = own[index] if isinstance(own, list) and index < len(own) else None
        defaults = self.raw.get("defaults")
        if isinstance(table, dict) and name not in table and isinstance(defaults, dict) \
                and name in defaults:
            return f"defaults.{name}"
        return f"sources[{index}] ({source.slug}).{name}"


def _raw(file: str) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _source(found: _Found, index: int, source: SourceConfig) -> None:
    _url(found, f"sources[{index}] ({source.slug}).url", source.url)
    if source.convert:
        from newsmirror.content.chinese import check_config

        try:
            check_config(source.convert)
        except ValueError as err:
            found.add(found.source_key(index, source, "convert"), str(err))
    if source.selector is not None:
        _selector(found, found.source_key(index, source, "selector"), source.selector)
    for number, selector in enumerate(source.remove):
        _selector(found, f"{found.source_key(index, source, 'remove')}[{number}]", selector)
    for template in source.image_proxy or ():
        _template(found, found.source_key(index, source, "image_proxy"), template)


def _url(found: _Found, key: str, url: str) -> None:
    if bad := web_problem(url):
        found.add(key, f"{url!r} {bad}")


def _selector(found: _Found, key: str, selector: str) -> None:
    from lxml.cssselect import CSSSelector

    if not selector.strip():
        found.add(key, "is an empty CSS selector")
        return
    try:
        CSSSelector(selector, translator="html")  # what extraction runs
    except Exception as err:  # noqa: BLE001 -- cssselect's SelectorError family, lxml's XPath errors
        found.add(key, f"{selector!r} is not a valid CSS selector: {err}")


def _template(found: _Found, key: str, template: str) -> None:
    from newsmirror.content.images import _URL_PARTS

    head = template.split("${", 1)[0]
    if bad := web_problem(head if "://" in head else template):
        found.add(key, f"{template!r} {bad}")
    names = re.findall(r"\$\{([^}]*)\}", template)
    unknown = [n for n in names if n.removesuffix("_ue") not in _URL_PARTS]
    for name in unknown:
        found.add(key, f"{template!r}: unknown placeholder ${{{name}}} (known: "
                       + ", ".join(f"${{{p}}}" for p in sorted(_URL_PARTS))
                       + ", each also with _ue for its URL-encoded form)")
    if template.count("${") != len(names):
        found.add(key, f"{template!r}: a placeholder is not closed with }}")


def _seconds(found: _Found, key: str, value: float) -> None:
    if not math.isfinite(value):
        found.add(key, f"must be a finite number of seconds, not {value}")
    elif value > MAX_SECONDS:
        found.add(key, f"{value:g} seconds is more than a day ({MAX_SECONDS})")


def _push_target(found: _Found, config: Config) -> None:
    if config.remote:
        if not config.remote.strip():
            found.add("archive.remote", "must not be empty")
        return

    try:
        has = (config.archive / ".git").exists() and Repo(config.archive).has_remote(
            config.remote_name)
    except GitError:
        has = False
    if not has:
        found.add("archive.push", f"push is on, but there is nowhere to push: archive.remote "
                                  f"is not set and {config.archive} has no git remote "
                                  f"{config.remote_name!r}. Set archive.remote, add the remote "
                                  "(git remote add), or set push = false in [archive] "
                                  "(or pass --no-push) to commit without pushing")


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _plain_name(name: str, *, branch: bool = False) -> bool:
    """A name git takes whatever its rules say of dots, slashes, '@{' and the rest, none of
    which it has (main, gh-pages, origin): valid without starting git to ask, which
    every run did twice before its first request. A branch may not be called HEAD."""
    return _PLAIN_NAME.fullmatch(name) is not None and not (branch and name == "HEAD")


def _git_ok(*args: str) -> bool:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=30,
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return True  # no git to ask: the run itself says so
