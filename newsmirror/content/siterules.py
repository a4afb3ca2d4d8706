"""Site rules: per-outlet CSS selectors for full-text extraction.

The defaults ship in ``siterules.toml`` next to this module; ``load_rules(path)``
merges a user file over them (a table with the same name replaces the default).
Rules are validated on load: any problem raises :class:`SiteRulesError` naming
the file, the key and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from newsmirror.errors import CONFIG, NewsmirrorError

__all__ = ["SiteRule", "SiteRulesError", "DEFAULT_RULES", "load_rules", "rules_for"]

DEFAULT_RULES = Path(__file__).with_name("siterules.toml")
_KEYS = {"hosts", "path_prefix", "selector", "remove", "remove_text", "page_query"}
_QUERY_PARAM = re.compile(r"[A-Za-z0-9_.~-]+(=[A-Za-z0-9_.~%-]*)?")


@dataclass(frozen=True)
class SiteRule:
    """Where the article body is on one site's pages, and what to drop from it."""

    selector: str
    remove: tuple[str, ...] = ()
    name: str = ""
    hosts: tuple[str, ...] = ()
    path_prefix: str = ""
    remove_text: tuple[str, ...] = ()
    """Regular expressions: a block (paragraph, div, heading, list item, …) whose whole
    text, white space folded, matches one is dropped ("分享 :", newsletter promos)."""
    page_query: str = ""
    """Query parameters (``full=y``) added to an article's address when its page is
    fetched: FT中文网 shows a long story whole only so. The article keeps its own link."""

    def page_url(self, url: str) -> str:
        """`url` as its page is fetched: with `page_query`'s parameters that it lacks."""
        if not self.page_query:
            return url
        head, hash_, fragment = url.partition("#")
        path, question, query = head.partition("?")
        have = {p.partition("=")[0] for p in query.split("&") if p}
        extra = [p for p in self.page_query.split("&") if p.partition("=")[0] not in have]
        if not extra:
            return url
        query = "&".join([p for p in query.split("&") if p] + extra)
        return f"{path}?{query}{hash_}{fragment}"

    def matches(self, host: str, path: str) -> bool:
        host = host.lower().rstrip(".")
        on_host = any(host == h or host.endswith("." + h) for h in self.hosts)
        return on_host and _under(path, self.path_prefix)


class SiteRulesError(NewsmirrorError, ValueError):
    """A site-rules file is unreadable or invalid."""

    exit_code = CONFIG


def load_rules(path: str | Path | None = None) -> tuple[SiteRule, ...]:
    """The default rules, with the rules of ``path`` (if given) merged over them."""
    rules = dict(_load_file(DEFAULT_RULES))
    if path is not None:
        rules.update(_load_file(Path(path)))
    return tuple(rules.values())


def rules_for(url: str, rules: tuple[SiteRule, ...] | None = None) -> SiteRule | None:
    """The rule for ``url`` (the longest matching path prefix wins), or None."""
    if rules is None:
        rules = _defaults()
    parts = urlsplit(url)
    host, path = (parts.hostname or ""), (parts.path or "/")
    found = [r for r in rules if r.matches(host, path)]
    if not found:
        return None
    # later rules (a user file) win ties with earlier ones (the defaults)
    return max(reversed(found), key=lambda r: len(r.path_prefix))


@lru_cache(maxsize=1)
def _defaults() -> tuple[SiteRule, ...]:
    return load_rules()


def _under(path: str, prefix: str) -> bool:
    if not prefix or prefix == "/":
        return True
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def _load_file(path: Path) -> dict[str, SiteRule]:
    """The rules of one file, read once per version of it (a run checks the configured file
    when it reads its configuration and uses it in several stages: one parse serves all)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise SiteRulesError(f"{path}: cannot read site rules: {exc}") from exc
    return dict(_parse_file(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _parse_file(path: Path, _mtime_ns: int, _size: int) -> tuple[tuple[str, SiteRule], ...]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise SiteRulesError(f"{path}: cannot read site rules: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SiteRulesError(f"{path}: not valid TOML: {exc}") from exc
    return tuple((name, _rule(path, name, table)) for name, table in data.items())


def _rule(path: Path, name: str, table: object) -> SiteRule:
    def fail(key: str, problem: str) -> SiteRulesError:
        where = f"[{name}]" + (f".{key}" if key else "")
        return SiteRulesError(f"{path}: {where}: {problem}")

    if not isinstance(table, dict):
        raise fail("", f"must be a table of rule settings, not {type(table).__name__}")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    for key in ("hosts", "selector"):
        if key not in table:
            raise fail(key, "is required")

    hosts = table["hosts"]
    if isinstance(hosts, str):
        hosts = [hosts]
    if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and h.strip() for h in hosts):
        raise fail("hosts", "must be a non-empty list of host names")
    hosts = [h.strip().lower().rstrip(".") for h in hosts]
    for h in hosts:
        if "/" in h or ":" in h or " " in h:
            raise fail("hosts", f"{h!r} is not a bare host name (no scheme, port or path)")

    prefix = table.get("path_prefix", "")
    if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
        raise fail("path_prefix", "must be a string starting with '/'")

    selector = table["selector"]
    if not isinstance(selector, str) or not selector.strip():
        raise fail("selector", "must be a non-empty CSS selector string")
    _check_css(selector, lambda problem: fail("selector", problem))

    remove = table.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(s, str) and s.strip() for s in remove):
        raise fail("remove", "must be a list of CSS selector strings")
    for i, sel in enumerate(remove):
        _check_css(sel, lambda problem, i=i: fail(f"remove[{i}]", problem))

    texts = table.get("remove_text", [])
    if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
        raise fail("remove_text", "must be a list of regular expressions (strings)")
    for i, pattern in enumerate(texts):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail(f"remove_text[{i}]", f"invalid regular expression {pattern!r}: {exc}") from None

    page_query = table.get("page_query", "")
    if not isinstance(page_query, str) or (page_query and not all(
            _QUERY_PARAM.fullmatch(p) for p in page_query.split("&"))):
        raise fail("page_query", f"{page_query!r} must be query parameters without the '?', "
                                 "like \"full=y\" or \"a=1&b=2\"")

    return SiteRule(selector=selector.strip(), remove=tuple(s.strip() for s in remove),
                    name=name, hosts=tuple(hosts), path_prefix=prefix, remove_text=tuple(texts),
                    page_query=page_query)


def _check_css(selector: str, fail) -> None:
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise fail(f"invalid CSS selector {selector!r}: {exc}") from exc
