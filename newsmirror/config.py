"""newsmirror.toml: read with tomllib, checked key by key with messages that name the
file, the key and what is wrong."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from newsmirror.addresses import derive_kind, derive_web, git_remote_problem, web_problem
from newsmirror.archive.paths import (
    ARTICLES_DIR, ASSETS_DIR, FEEDS_DIR, README, REQUESTS_DIR, SLUG_RE, STATE_DIR, source_list_path,
    windows_reserved,
)
from newsmirror.errors import CONFIG, NewsmirrorError
from newsmirror.fetch.settings import DEFAULT_USER_AGENT, FetchSettings

FULL_TEXT_MODES = ("feed", "page", "auto")
BODY_KEYS = ("feed_images", "text_paragraphs", "strip_tracking", "image_placeholders", "clean_feed")
"""Per-source body settings that [defaults] may set too (see content/feedbody.py)."""
DEFAULT_IMAGE_PROXY: tuple[str, ...] = ("https://images.weserv.nl?url=${host}${pathname}${search}",
                                         "https://wsrv.nl/?url=${href_ue}")
"""[images] proxy when a config does not set it (`newsmirror init` writes the same): image
addresses go through images.weserv.nl, with wsrv.nl (the same service under another
name) as the fallback a reader page retries; an address already going through either is
left alone (content/images.py). `proxy = []` turns proxying off."""
RESERVED_SLUGS = {"all": "feeds/all.xml is the combined feed",
                  "requests": "lists/requests.md lists archive requests",
                  "removed": "lists/removed.md lists removed articles",
                  "changed": "lists/changed.md lists articles edited at the source"}


ROTATIONS = ("none", "yearly")
"""`[archive] rotate`: how the archive spreads over repositories."""


class ConfigError(NewsmirrorError, ValueError):
    """A configuration that cannot be used: the file, the key and what is wrong."""

    exit_code = CONFIG

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


@dataclass(frozen=True)
class SourceConfig:
    slug: str
    name: str
    url: str
    full_text: str = "feed"
    selector: str | None = None
    remove: tuple[str, ...] = ()
    sanitize: bool = False
    convert: str | None = None
    image_proxy: tuple[str, ...] | None = None
    """None: the archive's setting; () turns proxying off for this source."""
    image_proxy_exclude: tuple[str, ...] = ()
    download_images: bool = False
    feed_images: bool = False
    """Lead a body that has no image with the feed's media:content / media:thumbnail /
    enclosure image (off: the body as the feed gave it)."""
    text_paragraphs: bool = False
    """A feed body that is plain text with line breaks becomes <p> paragraphs."""
    strip_tracking: bool = False
    """A new article's link line drops tracking parameters (utm_*, fbclid, …)."""
    clean_feed: bool = False
    """Feed bodies are cleaned with the site rule's (and `remove`'s) selectors, its
    remove_text patterns, and lose empty paragraphs (off: as the feed gave them)."""
    image_placeholders: tuple[tuple[str, str], ...] = ()
    """(name, value) pairs: ``${name}`` in image addresses is filled with value."""
    enabled: bool = True
    folder: str | None = None
    """The folder under articles/ where an older mirror kept this source's articles, when
    it is not named after the slug (e.g. "美国之音"); they stay there (archive/legacy.py)."""
    list_path: str | None = None
    """Where this source's list page lives, when not lists/<slug>.md: the address readers
    of an older mirror already use (e.g. "lists/美国之音.md")."""

    @property
    def list_file(self) -> str:
        return self.list_path or source_list_path(self.slug)


WHO_MAY_ASK = ("everyone", "collaborators")


@dataclass(frozen=True)
class RequestSettings:
    """[requests]: who may ask for pages through the request workflow, and how much."""

    who_may_ask: str = "collaborators"
    """"everyone", or "collaborators" (the issue author is the repository's owner, a
    member of its organisation or a collaborator)."""
    per_person_per_day: int = 3
    """Requests (issues) one person may make in 24 hours; 0 for no limit. Collaborators
    are not limited."""
    max_urls: int = 10
    """Addresses archived from one issue; the rest are listed as not processed."""
    sites: tuple[str, ...] = ()
    """When set, only pages on these hosts (or their subdomains) are archived."""


@dataclass(frozen=True)
class AlertSettings:
    """[alerts]: where to POST a source's change of state (see alerts/webhook.py)."""

    webhook: str | None = None
    webhook_env: str | None = None
    """The name of an environment variable holding the webhook address (a CI secret)."""
    after_failures: int = 3
    """Consecutive failures after which a source counts as failing."""


MIRROR_KINDS = ("github", "gitlab", "codeberg", "gitea", "local", "other")
MIRROR_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")


@dataclass(frozen=True)
class MirrorConfig:
    """[[archive.mirrors]]: another git repository that receives every push (see
    publish/mirrors.py)."""

    name: str
    url: str | None = None
    """The address to push to (any git URL, or a local path made absolute)."""
    url_env: str | None = None
    """Or: the name of an environment variable holding it (a CI secret with a token)."""
    web: str | None = None
    """The address readers open; derived from `url` for GitHub, GitLab, Codeberg, Gitea."""
    kind: str = "other"
    """github, gitlab, codeberg, gitea, local or other; derived from `url` when not given."""
    attempts: int = 2
    """Pushes tried in one run before this mirror counts as failed for the run."""
    retry_delay: float = 10.0
    """Seconds between those attempts."""


@dataclass(frozen=True)
class Config:
    file: str
    archive: Path
    sources: tuple[SourceConfig, ...]
    title: str = "新闻镜像 News mirror"
    remote: str | None = None
    web_url: str | None = None
    """`[archive] web_url` (older name: `site_url`): the archive's files on the web (e.g.
    its repository's web view of the branch), for the links in the archive's own feeds
    (feeds/*.xml). Not the reading site: that is `[site] url` (site_address)."""
    site_address: str | None = None
    """`[site] url`: where the reading site is published, ending in '/' (when not given,
    derived from a GitHub primary remote: see publish.site.site_url)."""
    site_max_mb: float = 1000.0
    """`[site] max_mb`: the most one published site may hold, in MB (10^6 bytes; GitHub
    Pages publishes at most 1 GB). A build past it is not published, and says so."""
    remote_name: str = "origin"
    branch: str = "main"
    push: bool = True
    list_size: int = 300
    feed_content: bool = False
    """`[archive] feed_content`: the archive's committed feeds carry each article's body.
    Off by default: bodies in feeds rewritten every hour cost more history than the
    articles themselves; the site's feeds (branch `site`, no history) carry them."""
    image_proxy: tuple[str, ...] = DEFAULT_IMAGE_PROXY
    image_proxy_exclude: tuple[str, ...] = ()
    site_rules: Path | None = None
    fetch: FetchSettings = field(default_factory=FetchSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    requests: RequestSettings = field(default_factory=RequestSettings)
    mirrors: tuple[MirrorConfig, ...] = ()
    rotate: str = "none"
    """`[archive] rotate`: "none" (one repository) or "yearly" (each new year's articles
    go to a shard repository of their own, `<name>-<YEAR>`: see archive/shards.py)."""

    @property
    def folders(self) -> dict[str, str]:
        """Old article folders named otherwise than their source: folder -> slug."""
        return {s.folder: s.slug for s in self.sources if s.folder and s.folder != s.slug}


# -- the checks ---------------------------------------------------------------------------
class _Checker:
    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.file, key, problem)

    def table(self, data: Any, key: str, known: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, f"must be a table, not {_kind(data)}")
        for name in data:
            if name not in known:
                where = f"{key}.{name}" if key else name
                raise self.fail(where, f"unknown key (known keys: {', '.join(sorted(known))})")
        return data

    def get(self, data: dict[str, Any], key: str, name: str, kind: type | tuple[type, ...],
            default: Any = None, *, required: bool = False) -> Any:
        where = f"{key}.{name}" if key else name
        if name not in data:
            if required:
                raise self.fail(where, "is required")
            return default
        value = data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(where, f"must be {_names(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise self.fail(where, f"must be {_names(kinds)}, not {_kind(value)}")
        if isinstance(value, str) and required and not value.strip():
            raise self.fail(where, "must not be empty")
        return value

    def strings(self, data: dict[str, Any], key: str, name: str) -> tuple[str, ...] | None:
        where = f"{key}.{name}" if key else name
        if name not in data:
            return None
        value = data[name]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "must be a string or a list of strings")
        return tuple(value)

    def positive(self, data: dict[str, Any], key: str, name: str, kind: type, default: Any) -> Any:
        value = self.get(data, key, name, (int, float) if kind is float else int, default)
        if value <= 0:  # nan and inf pass here: checks.py names them, with every other problem
            raise self.fail(f"{key}.{name}", f"must be greater than 0, not {value}")
        return kind(value)


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(_kind(k()) if k is not type(None) else "nothing" for k in kinds)


def _check_template(check: _Checker, where: str, template: str) -> None:
    if not template.startswith(("http://", "https://")) or "${" not in template:
        raise check.fail(where, f"{template!r} is not an image-proxy template "
                                "(an http(s) address with a placeholder such as ${href_ue})")


def _source(check: _Checker, raw: Any, index: int, defaults: dict[str, Any]) -> SourceConfig:
    key = f"sources[{index}]"
    known = {f.name for f in fields(SourceConfig)}
    data = check.table(raw, key, known)
    slug = check.get(data, key, "slug", str, required=True)
    if not SLUG_RE.match(slug):
        raise check.fail(f"{key}.slug", f"{slug!r} must be 1-40 characters of a-z, 0-9, '-' "
                                        "or '_', starting with a letter or digit")
    if slug in RESERVED_SLUGS:
        raise check.fail(f"{key}.slug", f"{slug!r} is reserved ({RESERVED_SLUGS[slug]})")
    if windows_reserved(slug):
        raise check.fail(f"{key}.slug", f"{slug!r} is a device name on Windows (CON, PRN, AUX, NUL, "
                                        "COM0-9, LPT0-9): its folders could not be checked out there")
    key = f"sources[{index}] ({slug})"
    url = check.get(data, key, "url", str, required=True)
    if not url.startswith(("http://", "https://")):
        raise check.fail(f"{key}.url", f"{url!r} is not an http(s) address")
    merged = {**defaults, **data}
    full_text = check.get(merged, key, "full_text", str, SourceConfig.full_text)
    if full_text not in FULL_TEXT_MODES:
        raise check.fail(f"{key}.full_text", f"{full_text!r} must be one of {', '.join(FULL_TEXT_MODES)}")
    convert = check.get(merged, key, "convert", str, SourceConfig.convert) or None
    proxy = check.strings(merged, key, "image_proxy")
    for template in proxy or ():
        _check_template(check, f"{key}.image_proxy", template)
    return SourceConfig(
        slug=slug,
        name=check.get(data, key, "name", str, required=True).strip(),
        url=url,
        full_text=full_text,
        selector=check.get(merged, key, "selector", str, SourceConfig.selector),
        remove=check.strings(merged, key, "remove") or (),
        sanitize=check.get(merged, key, "sanitize", bool, SourceConfig.sanitize),
        convert=convert,
        image_proxy=proxy,
        image_proxy_exclude=check.strings(merged, key, "image_proxy_exclude") or (),
        download_images=check.get(merged, key, "download_images", bool, SourceConfig.download_images),
        feed_images=check.get(merged, key, "feed_images", bool, SourceConfig.feed_images),
        text_paragraphs=check.get(merged, key, "text_paragraphs", bool, SourceConfig.text_paragraphs),
        strip_tracking=check.get(merged, key, "strip_tracking", bool, SourceConfig.strip_tracking),
        image_placeholders=_placeholders(check, key, merged),
        clean_feed=check.get(merged, key, "clean_feed", bool, SourceConfig.clean_feed),
        enabled=check.get(data, key, "enabled", bool, SourceConfig.enabled),
        folder=_folder(check, key, check.get(data, key, "folder", str, SourceConfig.folder)),
        list_path=_list_path(check, key, check.get(data, key, "list_path", str, SourceConfig.list_path)),
    )


_PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _placeholders(check: _Checker, key: str, data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """`image_placeholders`: a table of placeholder names and the text that fills them."""
    table = check.get(data, key, "image_placeholders", dict, {})
    pairs = []
    for name, value in table.items():
        where = f"{key}.image_placeholders.{name}"
        if not _PLACEHOLDER_NAME.fullmatch(name):
            raise check.fail(where, f"{name!r} is not a placeholder name (letters, digits and '_', "
                                    "as in ${formatId})")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip() or any(c in value for c in " \"'<>${}"):
            raise check.fail(where, f"must be the text that fills ${{{name}}} in an image address "
                                    f"(like \"906\"), not {value!r}")
        pairs.append((name, value))
    return tuple(pairs)


_RESERVED_PAGES = {README: "the archive README",
                   **{source_list_path(slug): why for slug, why in RESERVED_SLUGS.items()}}
_NOT_FOR_LISTS = tuple(f"{folder}/" for folder in (ARTICLES_DIR, FEEDS_DIR, ASSETS_DIR, REQUESTS_DIR,
                                                   STATE_DIR, ".git", ".github"))


def _folder(check: _Checker, key: str, folder: str | None) -> str | None:
    """`folder`: one folder name under articles/, as an older mirror named it."""
    if folder is None:
        return None
    where = f"{key}.folder"
    if not folder.strip() or folder != folder.strip():
        raise check.fail(where, f"{folder!r} must be a folder name without surrounding spaces")
    if "/" in folder or "\\" in folder or folder in (".", "..") or folder.startswith("."):
        raise check.fail(where, f"{folder!r} must be the name of one folder under articles/ "
                                "(like \"美国之音\"), not a path")
    if any(ord(ch) < 32 for ch in folder):
        raise check.fail(where, f"{folder!r} contains a control character")
    return folder


def _list_path(check: _Checker, key: str, path: str | None) -> str | None:
    """`list_path`: an archive-relative .md path for the source's list page."""
    if path is None:
        return None
    where = f"{key}.list_path"
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise check.fail(where, f"{path!r} must be a path inside the archive, relative to its "
                                "root, like \"lists/美国之音.md\"")
    if not path.endswith(".md") or len(parts[-1]) <= 3:
        raise check.fail(where, f"{path!r} must name a Markdown file (ending in .md)")
    if any(ord(ch) < 32 for ch in path):
        raise check.fail(where, f"{path!r} contains a control character")
    if path in _RESERVED_PAGES:
        raise check.fail(where, f"{path!r} is reserved ({_RESERVED_PAGES[path]})")
    if path.startswith(_NOT_FOR_LISTS):
        raise check.fail(where, f"{path!r} is inside {parts[0]}/, which newsmirror keeps "
                                "for other files; list pages go elsewhere (e.g. lists/)")
    return path


def _check_places(check: _Checker, sources: tuple[SourceConfig, ...]) -> None:
    """No two sources share an article folder or a list page."""
    folders: dict[str, str] = {s.slug: s.slug for s in sources}
    pages: dict[str, str] = {}
    for index, source in enumerate(sources):
        key = f"sources[{index}] ({source.slug})"
        if source.folder and source.folder != source.slug:
            other = folders.get(source.folder)
            if other is not None:
                what = "slug" if other == source.folder else "folder"
                raise check.fail(f"{key}.folder", f"articles/{source.folder}/ already belongs to "
                                                  f"source {other!r} (its {what})")
            folders[source.folder] = source.slug
    # Pages named by list_path come last, so that a clash is reported on that key.
    for index, source in sorted(enumerate(sources), key=lambda pair: pair[1].list_path is not None):
        key = f"sources[{index}] ({source.slug})"
        other = pages.get(source.list_file)
        if other is not None:
            raise check.fail(f"{key}.list_path" if source.list_path else f"{key}.slug",
                             f"{source.list_file} is already the list page of source {other!r}")
        pages[source.list_file] = source.slug


def _alerts(check: _Checker, raw: Any) -> AlertSettings:
    """[alerts] webhook / webhook_env / after_failures."""
    data = check.table(raw, "alerts", {"webhook", "webhook_env", "after_failures"})
    webhook = check.get(data, "alerts", "webhook", str, None)
    if webhook is not None:
        if problem := web_problem(webhook):
            raise check.fail("alerts.webhook", f"{webhook!r} {problem}")
    env = check.get(data, "alerts", "webhook_env", str, None)
    if env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        raise check.fail("alerts.webhook_env", f"{env!r} is not an environment variable name "
                                               "(letters, digits and '_', not starting with a digit)")
    if webhook and env:
        raise check.fail("alerts", "give webhook or webhook_env, not both")
    after = check.positive(data, "alerts", "after_failures", int, AlertSettings.after_failures)
    return AlertSettings(webhook=webhook, webhook_env=env, after_failures=after)


def _site(check: _Checker, data: Any) -> tuple[str | None, float]:
    """`[site] url` (an http(s) address, returned ending in '/') and `max_mb`."""
    site = check.table(data, "site", {"url", "max_mb"})
    max_mb = check.positive(site, "site", "max_mb", float, Config.site_max_mb)
    if not math.isfinite(max_mb):  # refused here: `newsmirror site` runs no preflight
        problem = "must be greater than 0, not nan" if math.isnan(max_mb) else "must be a finite number, not inf"
        raise check.fail("site.max_mb", problem)
    return _site_address(check, site), max_mb


def _site_address(check: _Checker, site: dict[str, Any]) -> str | None:
    url = check.get(site, "site", "url", str, None)
    if url is None:
        return None
    if problem := web_problem(url):
        raise check.fail("site.url", f"{url!r} {problem} (the address the reading site is "
                                     "published at, like https://you.github.io/news-archive/)")
    return url if url.endswith("/") else url + "/"


def parse_config(data: dict[str, Any], *, file: str, base: Path) -> Config:
    """Check a loaded TOML document and build the Config. Relative paths are taken
    against `base` (the config file's folder)."""
    check = _Checker(file)
    top = check.table(data, "", {"archive", "fetch", "images", "defaults", "sources",
                                 "bundled_sources", "site_rules", "alerts",
                                 "requests", "site"})
    alerts = _alerts(check, top.get("alerts", {}))
    archive = check.table(top.get("archive", {}), "archive",
                          {"path", "title", "remote", "remote_name", "branch", "push", "list_size",
                           "web_url", "site_url", "mirrors", "feed_content", "rotate"})
    fetch = check.table(top.get("fetch", {}), "fetch", {f.name for f in fields(FetchSettings)})
    images = check.table(top.get("images", {}), "images", {"proxy", "exclude"})
    defaults = check.table(top.get("defaults", {}), "defaults",
                           {"full_text", "selector", "remove", "sanitize", "convert",
                            "image_proxy", "image_proxy_exclude", "download_images",
                            *BODY_KEYS})

    raw_sources = top.get("sources", [])
    if not isinstance(raw_sources, list):
        raise check.fail("sources", "must be an array of tables ([[sources]])")
    bundled = check.get(top, "", "bundled_sources", (bool, list), False)
    if isinstance(bundled, list) and not all(isinstance(slug, str) for slug in bundled):
        raise check.fail("bundled_sources", "must be true, false or a list of slugs (strings)")
    if bundled:
        from newsmirror.sources.bundled import bundled_sources

        wanted = None if bundled is True else set(bundled)
        own = {s.get("slug") for s in raw_sources if isinstance(s, dict)}
        extra = [s for s in bundled_sources() if (wanted is None or s["slug"] in wanted)
                 and s["slug"] not in own]
        if wanted is not None and (missing := wanted - {s["slug"] for s in bundled_sources()}):
            raise check.fail("bundled_sources", f"no bundled source named {', '.join(sorted(missing))}")
        raw_sources = [*raw_sources, *extra]
    sources = tuple(_source(check, raw, i, defaults) for i, raw in enumerate(raw_sources))
    if not sources:
        raise check.fail("sources", "no sources configured: add a [[sources]] table with "
                                    "slug, name and url (or set bundled_sources = true)")
    seen: set[str] = set()
    for source in sources:
        if source.slug in seen:
            raise check.fail("sources", f"the slug {source.slug!r} is used twice")
        seen.add(source.slug)
    _check_places(check, sources)

    proxy = check.strings(images, "images", "proxy")
    if proxy is None:
        proxy = DEFAULT_IMAGE_PROXY
    for template in proxy:
        _check_template(check, "images.proxy", template)
    user_agent = check.get(fetch, "fetch", "user_agent", str, None)
    if user_agent is not None and not (user_agent.isascii() and user_agent.isprintable()):
        raise check.fail("fetch.user_agent", f"{user_agent!r} must be printable ASCII: an "
                         "HTTP header carries no other characters")
    rules = check.get(top, "", "site_rules", str, None)
    if rules:
        from newsmirror.content.siterules import SiteRulesError, load_rules

        try:
            load_rules(base / rules)
        except SiteRulesError as err:
            raise check.fail("site_rules", str(err)) from None
    list_size = check.positive(archive, "archive", "list_size", int, Config.list_size)
    web_key = "site_url" if "site_url" in archive else "web_url"  # its older name
    if "site_url" in archive and "web_url" in archive:
        raise check.fail("archive.site_url", "is the older name of archive.web_url: give one of them")
    web_url = check.get(archive, "archive", web_key, str, None)
    if web_url and not web_url.startswith(("http://", "https://")):
        raise check.fail(f"archive.{web_key}", f"{web_url!r} is not an http(s) address")
    site_address, site_max_mb = _site(check, top.get("site", {}))
    requests = _requests(check, top.get("requests", {}))
    remote = check.get(archive, "archive", "remote", str, None)
    remote_name = check.get(archive, "archive", "remote_name", str, Config.remote_name)
    mirrors = _mirrors(check, archive.get("mirrors", []), base, remote, remote_name)
    rotate = check.get(archive, "archive", "rotate", str, Config.rotate)
    if rotate not in ROTATIONS:
        raise check.fail("archive.rotate", f"{rotate!r} is not one of {', '.join(map(repr, ROTATIONS))} "
                                           "(\"yearly\": each new year's articles go to a repository of their own)")
    return Config(
        file=file,
        archive=base / check.get(archive, "archive", "path", str, "archive"),
        sources=sources,
        title=check.get(archive, "archive", "title", str, Config.title),
        remote=remote,
        web_url=web_url.rstrip("/") if web_url else None,
        site_address=site_address,
        site_max_mb=site_max_mb,
        remote_name=remote_name,
        branch=check.get(archive, "archive", "branch", str, Config.branch),
        push=check.get(archive, "archive", "push", bool, Config.push),
        list_size=list_size,
        feed_content=check.get(archive, "archive", "feed_content", bool, Config.feed_content),
        image_proxy=proxy,
        image_proxy_exclude=check.strings(images, "images", "exclude") or (),
        site_rules=base / rules if rules else None,
        fetch=FetchSettings(
            user_agent=user_agent or DEFAULT_USER_AGENT,
            # Every limit a number > 0, its default the one FetchSettings declares.
            **{f.name: check.positive(fetch, "fetch", f.name, type(f.default), f.default)
               for f in fields(FetchSettings) if f.name != "user_agent"},
        ),
        alerts=alerts,
        requests=requests,
        mirrors=mirrors,
        rotate=rotate,
    )


def _mirrors(check: _Checker, raw: Any, base: Path, remote: str | None,
             remote_name: str) -> tuple[MirrorConfig, ...]:
    """[[archive.mirrors]]: name, url or url_env, web, kind, attempts, retry_delay."""
    if not isinstance(raw, list):
        raise check.fail("archive.mirrors", "must be an array of tables ([[archive.mirrors]])")
    known = {f.name for f in fields(MirrorConfig)}
    mirrors: list[MirrorConfig] = []
    for index, entry in enumerate(raw):
        key = f"archive.mirrors[{index}]"
        data = check.table(entry, key, known)
        name = check.get(data, key, "name", str, required=True).strip()
        if not MIRROR_NAME_RE.match(name):
            raise check.fail(f"{key}.name", f"{name!r} must be 1-40 letters, digits, '.', '_' "
                                            "or '-', starting with a letter or digit")
        key = f"archive.mirrors[{index}] ({name})"
        url = check.get(data, key, "url", str, None)
        env = check.get(data, key, "url_env", str, None)
        if (url is None) == (env is None):
            raise check.fail(key, "give url (where to push) or url_env (an environment "
                                  "variable holding it), exactly one of them")
        if url is not None:
            if problem := git_remote_problem(url):
                raise check.fail(f"{key}.url", problem)
            if "://" not in url and not re.match(r"[^/]+@[^/:]+:", url) \
                    and not Path(url).is_absolute():
                url = str((base / url).resolve())  # a local path, relative to this file
        if env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
            raise check.fail(f"{key}.url_env", f"{env!r} is not an environment variable name "
                                               "(letters, digits and '_', not starting with a digit)")
        kind = check.get(data, key, "kind", str, None)
        if kind is None:
            kind = derive_kind(url) if url else "other"
        elif kind not in MIRROR_KINDS:
            raise check.fail(f"{key}.kind", f"{kind!r} must be one of {', '.join(MIRROR_KINDS)}")
        web = check.get(data, key, "web", str, None)
        if web is not None and not web.startswith(("http://", "https://")):
            raise check.fail(f"{key}.web", f"{web!r} is not an http(s) address")
        if web is None and url:
            web = derive_web(url, kind)
        attempts = check.positive(data, key, "attempts", int, MirrorConfig.attempts)
        delay = check.get(data, key, "retry_delay", (int, float), MirrorConfig.retry_delay)
        if not 0 <= delay <= 600:
            raise check.fail(f"{key}.retry_delay", f"must be 0 to 600 seconds, not {delay}")
        for other in mirrors:
            if other.name == name:
                raise check.fail(f"{key}.name", f"the mirror name {name!r} is used twice")
            if url and other.url == url:
                raise check.fail(f"{key}.url", f"the same address as mirror {other.name!r}")
        if name == remote_name:
            raise check.fail(f"{key}.name", f"{name!r} is the primary remote's name "
                                            "(archive.remote_name); choose another")
        if url and remote and url == remote:
            raise check.fail(f"{key}.url", "the same address as archive.remote (the primary "
                                           "remote is pushed to anyway)")
        mirrors.append(MirrorConfig(name=name, url=url, url_env=env, web=web and web.rstrip("/"),
                                    kind=kind, attempts=attempts, retry_delay=float(delay)))
    return tuple(mirrors)


def _requests(check: _Checker, raw: Any) -> RequestSettings:
    """The [requests] table."""
    data = check.table(raw, "requests", {f.name for f in fields(RequestSettings)})
    who = check.get(data, "requests", "who_may_ask", str, RequestSettings.who_may_ask)
    if who not in WHO_MAY_ASK:
        raise check.fail("requests.who_may_ask", f"{who!r} must be one of {', '.join(WHO_MAY_ASK)}")
    per_day = check.get(data, "requests", "per_person_per_day", int,
                        RequestSettings.per_person_per_day)
    if per_day < 0:
        raise check.fail("requests.per_person_per_day", f"must be 0 (no limit) or more, not {per_day}")
    sites = tuple(s.strip().lower().strip(".") for s in check.strings(data, "requests", "sites") or ())
    for site in sites:
        if not site or "/" in site or ":" in site or " " in site:
            raise check.fail("requests.sites", f"{site!r} is not a host name (like mp.weixin.qq.com)")
    return RequestSettings(
        who_may_ask=who, per_person_per_day=per_day,
        max_urls=check.positive(data, "requests", "max_urls", int, RequestSettings.max_urls),
        sites=sites)


def load_config(path: Path) -> Config:
    """Read and check a newsmirror.toml."""
    file = str(path)
    if path.is_dir():
        raise ConfigError(file, "", "a folder, not a configuration file (name the "
                          "newsmirror.toml in it)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, "", "file not found (create one, or run `newsmirror init DIR`)") from None
    except UnicodeDecodeError:
        raise ConfigError(file, "", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(file, "", "not valid TOML for newsmirror: arrays or tables nested "
                          "too deeply to read") from None
    except OSError as exc:
        raise ConfigError(file, "", f"cannot be read: {exc.strerror or exc}") from None
    config = parse_config(data, file=file, base=path.resolve().parent)
    check_archive_folder(config.archive, path, file, "archive.path")
    return config


def check_archive_folder(folder: Path, config_file: Path, file: str, key: str) -> None:
    """The archive is never the configuration file itself (any other file in its place is
    found when the archive cannot be made, exit 3)."""
    if folder.resolve() == config_file.resolve():
        raise ConfigError(file, key, f"{str(folder)!r} is this configuration file: the archive "
                          "is a folder (a git repository) of its own, e.g. path = \"archive\"")
