"""`newsmirror site` renders the archive as a static reading site; `newsmirror serve`
shows a built site on a local web server."""

from __future__ import annotations

import functools
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from newsmirror.archive.paths import ARTICLES_DIR, CATALOG_FILE, SHARDS_DIR, SHARDS_INDEX
from newsmirror.errors import ARCHIVE, CONFIG, FAILED
from newsmirror.cli.output import out, plural
from newsmirror.cli.run import ARCHIVE_OPTION, CONFIG_OPTION, resolve_config

if TYPE_CHECKING:
    from newsmirror.archive.git import Repo
    from newsmirror.config import Config

OUT_OPTION = typer.Option(None, "--out", "-o", help="Where to write the site (default: ./site "
                          "next to the configuration file).")
SERVE_OUT_OPTION = typer.Option(Path("site"), "--out", "-o", help="The built site to serve.")


def default_out(config_file: str) -> Path:
    """The site folder when --out is not given: `site` beside the configuration file."""
    return Path(config_file).resolve().parent / "site"


def site(
    config: Optional[Path] = CONFIG_OPTION,
    archive: Optional[Path] = ARCHIVE_OPTION,
    out_dir: Optional[Path] = OUT_OPTION,
    publish: bool = typer.Option(False, "--publish", help="Then publish it: commit the site "
                                 "as the branch `site` (one commit, no history) and push it "
                                 "to the primary remote and every [[archive.mirrors]]."),
    if_changed: bool = typer.Option(False, "--if-changed", help="With --publish: do nothing "
                                    "when the site the primary serves was published from "
                                    "here from the archive as it is now."),
) -> None:
    """Render the archive as a static HTML site with offline search.

    The site (home page, a paginated page per source, a page per article, search) uses
    relative links only: publish the folder on GitHub Pages or any static host, or open
    its index.html from disk. The default folder is ./site next to the configuration
    file. Rebuilding into the same folder costs what changed since the last build:
    the folder keeps what it was built from in .newsmirror-site.db (never published;
    delete it for a full build), and only the pages and index files that changed are
    written. An article that cannot be built is named with the reason and skipped, the
    rest of the site is built, and the exit code is 1.

    With yearly shards ([archive] rotate = "yearly"), the articles a shard <name>-<YEAR>
    holds are on that shard's own site, built into <folder>-<YEAR> beside the main one
    and published from the shard's repository: the main site keeps the lists, feeds and
    search of every article and links each shard's article to its shard's site.

    With --publish, the built site is then committed alone, without a parent, and
    force-pushed as the branch `site` to the primary remote and every mirror, each on
    its own: the primary failing exits 3, a mirror failing is a warning naming it. Each
    shard's site goes the same way to the shard's remotes, and a shard's site that is
    published and built from the shard as it is now is left as it is.
    With --if-changed as well, nothing is built when the last publication from this
    archive (remembered in its local cache) was built from the same commit,
    configuration and newsmirror version and the primary still serves it: a publication
    that failed, or an archive changed by anyone, is published at the next call.
    """
    from newsmirror.archive.git import Repo
    from newsmirror.archive.shards import open_shards
    from newsmirror.archive.store import open_store
    from newsmirror.publish.pages import current_publication, remember_shard_site
    from newsmirror.publish.site import build_site, shard_site_dir

    loaded = resolve_config(config, archive)
    if not (loaded.archive / ARTICLES_DIR).is_dir() and not (loaded.archive / SHARDS_INDEX).is_file():
        raise out.fail(f"{loaded.archive}: no archive here yet (run `newsmirror run` first)")
    target = (out_dir or default_out(loaded.file)).resolve()
    if target == loaded.archive.resolve() or loaded.archive.resolve().is_relative_to(target):
        raise out.fail(f"{target}: the site folder must not be the archive or contain it", CONFIG)
    if if_changed and not publish:
        raise out.fail("--if-changed goes with --publish", CONFIG)
    if if_changed and (current := _current(loaded)):
        out.stdout.print(f"the published site (commit {current[:12]}) is built from the "
                         "archive as it is: nothing to do", markup=False)
        return
    if publish:
        _restore(Repo(loaded.archive), loaded, target)
    built: list[tuple[str, Repo, Config, Path]] = []  # each shard's site: year, clone, settings, folder
    with open_store(loaded.archive, branch=loaded.branch, writes=False, folders=loaded.folders) as store:
        # The articles of every shard, read from their clones: a closed shard's clone is
        # made when a build first reads one of its articles (a site built before holds
        # them, and a closed shard's site published once stays as it is).
        shards = open_shards(loaded, store, int(time.time() * 1000), start=False)
        take = (lambda year: shards.take(loaded, store, year)) if shards else None
        reports = [("", build_site(loaded, store, target, take_shard=take))]
        sites, unreachable = _shard_sites(loaded, store, shards, publish=publish)
        notes = shards.notes if shards else []
        for note in notes:
            if not any(note.startswith(f"shard {year}: ") for year in unreachable):
                out.detail(note)
        for year in unreachable:  # why, loud: the command fails below
            out.error("; ".join(note for note in notes if note.startswith(f"shard {year}: "))
                      or f"shard {year}: its clone could not be made")
        for year, repo, settings in sites:
            folder = shard_site_dir(target, year)
            if publish and (current := current_publication(repo, settings)):
                remember_shard_site(store.repo, year, repo, settings)
                out.info(f"the site of shard {year} (commit {current[:12]}) is published and built "
                         "from the shard as it is: left as it is")
                continue
            if publish:
                _restore(repo, settings, folder)
            reports.append((year, build_site(loaded, store, folder, shard=year, take_shard=take)))
            built.append((year, repo, settings, folder))
    for year, report in reports:
        _say(report, f"shard {year}'s site: " if year else "")
    too_big = {year: problem for year, report in reports if (problem := _size_problem(loaded, year, report))}
    if publish:
        main = Repo(loaded.archive)
        unpublished = [where for where in ([] if "" in too_big else [_publish(main, loaded, target, "the site")])
                       + [_publish(repo, settings, folder, f"the site of shard {year}", main, year)
                          for year, repo, settings, folder in built if year not in too_big] if where]
        unpublished += [f"the site of shard {year} is not published from the shard as it is and its "
                        "clone could not be made, so it was not built: the main site links to and "
                        "searches it as it was last published" for year in unreachable]
        if unpublished:
            raise out.fail("; ".join([*unpublished, *too_big.values()]), ARCHIVE)
    if too_big:
        raise out.fail("; ".join(too_big.values()), FAILED)
    failed = len(set().union(*(report.failed for _, report in reports)))  # a path once, whichever sites failed it
    if failed:
        raise out.fail(f"{failed} of {reports[0][1].articles} articles could not be "
                       "built (the rest of the site is); the next build tries them again", FAILED)


def _say(report, where: str) -> None:
    """What one site's build did (`where`: which site, '' the main one)."""
    for note in report.notes:
        out.warn(f"{where}{note}")
    for path in report.written:
        out.detail(f"{where}wrote {path}")
    if report.files_written > len(report.written):
        out.detail(f"{where}… and {report.files_written - len(report.written)} more files")
    out.stdout.print(
        f"{where}{plural(report.articles, 'article')} from {plural(report.sources, 'source')}: "
        f"{report.files_written} files written ({report.pages_count} pages, "
        f"{report.index_files_count} search index files), {report.unchanged} unchanged, "
        f"{len(report.removed)} removed",
        markup=False,
    )
    out.stdout.print(str(report.index_path), markup=False)
    for path, reason in sorted(report.failed.items()):
        out.error(f"{where}{path}: not built: {reason}")


def _size_problem(loaded, year: str, report) -> str | None:
    """What to say of a built site past `[site] max_mb` (it is not published: its host
    would refuse it); a warning past 90% of it."""
    limit = loaded.site_max_mb * 1e6
    name = f"the site of shard {year}" if year else "the site"
    size = f"{report.bytes / 1e6:,.0f} MB for {plural(report.articles, 'article')}"
    if report.bytes <= limit:
        if report.bytes > 0.9 * limit:
            out.warn(f"{name} is {size}, {report.bytes / limit:.0%} of the {loaded.site_max_mb:,g} MB "
                     "one published site may hold ([site] max_mb)")
        return None
    if year:
        remedy = ("a year's articles do not fit one site: raise [site] max_mb if the host takes more, "
                  "or mirror fewer sources into this archive")
    elif loaded.rotate != "yearly":
        remedy = ('turn on yearly shards ([archive] rotate = "yearly"): each new year\'s articles then '
                  "go to a repository, and a site, of their own")
    else:
        remedy = ("the articles from before the shards began and the lists of every article pass it: "
                  "raise [site] max_mb if the host takes more")
    return (f"{name} is {size}, past the {loaded.site_max_mb:,g} MB one published site may hold "
            f"([site] max_mb), so it was not published: {remedy}")


def _shard_sites(loaded, store, shards, *, publish: bool) -> tuple[list[tuple[str, Repo, Config]], list[str]]:
    """Each shard with a site of its own whose clone is here: its year, its clone and the
    configuration it is published with (its remotes); and, to publish, the years of the
    shards whose site is to be published again but whose clone could not be made. To
    publish, a closed shard whose clone was not needed by the main site's build is cloned
    unless its site is known to be published from it as it is (its last push may have
    failed, before its clone left the cache; an older newsmirror published it): the main
    site links its articles there and its search asks that site for them. Why a shard
    could not be cloned is among the shards' notes; the main site links to its site as
    it is."""
    from newsmirror.archive.store import head_meta
    from newsmirror.publish.mirrors import shard_config
    from newsmirror.publish.pages import shard_site_published
    from newsmirror.publish.site import shard_sites

    if shards is None:
        return [], []
    found, unreachable = [], []
    for year in shard_sites(loaded, loaded.archive, shards.primary):
        settings = shard_config(loaded, year, shards.primary)
        if publish and year not in shards.repos and not shard_site_published(
                store.repo, year, store.catalog.get_meta(head_meta(year)), settings) \
                and shards.take(loaded, store, year) is None:
            unreachable.append(year)
        if year in shards.repos:
            found.append((year, shards.repos[year], settings))
    return found, unreachable


def _current(loaded) -> str | None:
    """The commit the primary serves when the main site and every shard's site are
    published from the archive as it is (None: something is to build)."""
    from newsmirror.archive.git import Repo
    from newsmirror.archive.shards import read_index
    from newsmirror.publish.mirrors import shard_config
    from newsmirror.archive.dbfile import read_meta
    from newsmirror.archive.store import head_meta
    from newsmirror.publish.pages import current_publication, shard_site_published
    from newsmirror.publish.site import shard_sites

    repo = Repo(loaded.archive)
    current = current_publication(repo, loaded)
    if current is None or read_index(loaded.archive) is None:
        return current
    primary = None if loaded.remote else repo.remote_url(loaded.remote_name)
    for year in shard_sites(loaded, loaded.archive, primary):
        clone = Repo(loaded.archive / SHARDS_DIR / year)
        settings = shard_config(loaded, year, primary)
        if (clone.root / ".git").is_dir():
            if current_publication(clone, settings) is None:
                return None
        # A closed shard whose clone is not here (the workflow's cache keeps the open
        # one's only): published, as remembered, from its commit as the catalog knows it.
        elif not shard_site_published(repo, year, read_meta(loaded.archive / CATALOG_FILE, head_meta(year)),
                                      settings):
            return None
    return current


def _restore(repo: Repo, settings: Config, target: Path) -> None:
    """Start from the site last published from `repo`, on a runner that has no site folder."""
    from newsmirror.publish.pages import restore_published

    if restored := restore_published(repo, settings, target):
        out.info(f"restored the published site (commit {restored[:12]}) into {target}: "
                 "building what changed since")


def _publish(repo: Repo, settings: Config, target: Path, what: str, main: Repo | None = None,
             year: str = "") -> str | None:
    """Publish one built site from `repo` to its remotes (`settings`'); None when its
    primary remote took it, else what failed. The site of the shard `year` that its
    primary took is remembered in the cache of `main`, which outlives the shard's clone."""
    from newsmirror.publish.pages import publish_site, remember_shard_site

    published = publish_site(repo, settings, target)  # a GitError exits 3
    for outcome in published.mirrors:
        if outcome.ok:
            out.info(outcome.message)
        else:
            out.warn(f"mirror {outcome.message}")
    if not published.primary.ok:
        return f"{what} was not published to the primary remote {published.primary.message}"
    out.info(published.primary.message)
    if main is not None:
        remember_shard_site(main, year, repo, settings)
    out.stdout.print(f"published {what} ({plural(published.files, 'file')}) as the branch "
                     f"site, commit {published.commit[:12]}", markup=False)
    return None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        out.detail(format % args)


def serve(
    out_dir: Path = SERVE_OUT_OPTION,
    port: int = typer.Option(8000, "--port", "-p", help="The port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on "
                             "(127.0.0.1: this computer only)."),
) -> None:
    """Serve a site built by `newsmirror site` for local reading; Ctrl-C stops it."""
    folder = out_dir.resolve()
    if not (folder / "index.html").is_file():
        raise out.fail(f"{folder}: no site here (build one with `newsmirror site`)")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as err:
        raise out.fail(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    shown = f"[{host}]" if ":" in host else host
    out.stdout.print(f"serving {folder} at http://{shown}:{server.server_address[1]}/ "
                     "(Ctrl-C to stop)", markup=False)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out.info("stopped")


def register(app: typer.Typer) -> None:
    app.command("site")(site)
    app.command("serve")(serve)
