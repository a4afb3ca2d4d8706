"""One run of the mirror: every source fetched concurrently, new and changed articles
written, lists and README regenerated, committed and pushed.

A broken source is recorded in its health and never stops the others; the run fails only
when nothing at all could be done.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Protocol

from newsmirror import crashpoints
from newsmirror.archive.article import UNTITLED, normalise_title, render_article
from newsmirror.archive.assets import ImageDownloader
from newsmirror.archive.catalog import digest_bytes
from newsmirror.archive.files import write_atomic
from newsmirror.archive.identity import assign_keys, base_key, key_hash, normalise_link
from newsmirror.archive.legacy import same_as_old_file
from newsmirror.archive.paths import (
    ARTICLES_DIR, ASSETS_DIR, FEEDS_DIR, HEALTH_FILE, LISTS_DIR, MIRRORS_FILE, README, SHARDS_INDEX,
    article_path,
)
from newsmirror.archive.shards import Shards, shard_name
from newsmirror.archive.store import Store, commit_message
from newsmirror.config import Config, SourceConfig
from newsmirror.content.clean import strip_tracking
from newsmirror.content.feedbody import BodySettings, prepare_body
from newsmirror.content.images import ImagePolicy
from newsmirror.jobs.pages import PageFetcher, PagesAhead
from newsmirror.content.siterules import SiteRule, load_rules, rules_for
from newsmirror.content.transform import (
    ContentSettings, clean_body, finish_body, transform_body, transform_title,
)
from newsmirror.fetch.client import FetchError, Fetcher
from newsmirror.isolation import item_failure, item_name, machine_error
from newsmirror.models import ArchivedEntry, Article, FeedItem, ItemFailure, SourceOutcome, plural
from newsmirror.parse.feed import FeedParseError, NotAFeedError, parse_feed
from newsmirror.publish.derived import regenerate
from newsmirror.publish.mirrors import snapshot, snapshot_changed
from newsmirror.jobs.session import Published, open_session
from newsmirror.sources.health import (
    RECENT_ARTICLES, SourceHealth, after_failure, after_new_articles, after_success, alert_state,
    describe, dump_health, durable, load_states, migrate, read_health, should_attempt, state_files,
)

PAGE_PENDING = "page-pending"
"""Stands for the feed digest when the article's page could not be fetched: the next run
tries the page again (None, by contrast, means a catalog rebuilt from the files)."""
GENERATED = [ARTICLES_DIR, ASSETS_DIR, LISTS_DIR, FEEDS_DIR, README, HEALTH_FILE, MIRRORS_FILE,
             SHARDS_INDEX, ".gitignore"]


@dataclass
class RunReport(Published):
    outcomes: list[SourceOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    page_failures: dict[str, str] = field(default_factory=dict)
    """Article pages that could not be fetched or read (the feed's text stands in)."""
    image_failures: dict[str, str] = field(default_factory=dict)
    """Images that could not be downloaded into the archive (they go through the proxy)."""
    health: dict[str, SourceHealth] = field(default_factory=dict)
    """Each source's state after the run."""
    shard_commit: str | None = None
    """The commit made in the open shard (archive/shards.py), when one was."""
    shard_repo: str | None = None
    """The repository `shard_commit` is in (`<name>-<YEAR>`)."""

    @property
    def backing_off(self) -> int:
        """Sources not attempted this run because they are waiting out a backoff."""
        return sum(1 for o in self.outcomes if o.skipped)

    @property
    def failed_items(self) -> list[tuple[str, ItemFailure]]:
        """(source slug, failure) of every item that could not be archived this run."""
        return [(o.slug, f) for o in self.outcomes for f in o.failed_items]

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def ok(self) -> bool:
        """False only when nothing could be done: every source that was tried failed."""
        tried = [o for o in self.outcomes if not o.skipped]
        return not tried or any(o.failed is None for o in tried)


class Progress(Protocol):
    """What a run tells its caller while it goes (the CLI shows progress with it)."""

    def start(self, total: int) -> None: ...
    def source_done(self, outcome: SourceOutcome) -> None: ...
    def note(self, message: str) -> None: ...
    def working(self, slug: str, what: str) -> None: ...
    def worked(self, slug: str, what: str) -> None: ...
    def item_failed(self, slug: str, failure: ItemFailure) -> None: ...


class Reporter:
    """A run's Progress that tells no one (the default)."""

    def start(self, total: int) -> None: ...
    def source_done(self, outcome: SourceOutcome) -> None: ...
    def note(self, message: str) -> None: ...
    def working(self, slug: str, what: str) -> None:
        """`slug` starts fetching `what`: "feed" (counted by start), "page" or "images"
        (one more step each)."""
    def worked(self, slug: str, what: str) -> None:
        """The `what` that `working` announced is done (a feed is done with its source)."""
    def item_failed(self, slug: str, failure: ItemFailure) -> None:
        """One item of `slug` could not be archived (the run goes on)."""


def content_settings(config: Config, source: SourceConfig | None) -> ContentSettings:
    """How a body is transformed: as its source asks, or (`source` None: a page archived
    on request) with the archive's image proxy alone."""
    if source is None:
        return ContentSettings(images=ImagePolicy(templates=tuple(config.image_proxy),
                                                  exclude_hosts=tuple(config.image_proxy_exclude)))
    templates = config.image_proxy if source.image_proxy is None else source.image_proxy
    return ContentSettings(
        sanitize=source.sanitize,
        images=ImagePolicy(templates=tuple(templates),
                           exclude_hosts=tuple(config.image_proxy_exclude) + source.image_proxy_exclude),
        convert=source.convert,
    )


def body_settings(source: SourceConfig) -> BodySettings:
    return BodySettings(feed_images=source.feed_images, text_paragraphs=source.text_paragraphs,
                        clean_feed=source.clean_feed, remove=source.remove,
                        image_placeholders=source.image_placeholders)


def shown_link(source: SourceConfig, link: str, existing: ArchivedEntry | None) -> str:
    """The address on the article's link line: `link`, or without its tracking parameters
    (utm_*, fbclid, …) when the source asks for that. Only a new article is written so; an
    archived one keeps the link it has. The item's identity always comes from the feed's
    own link, so an item seen again is the same article either way."""
    if not source.strip_tracking:
        return link
    stripped = strip_tracking(link)
    return stripped if existing is None or existing.link == stripped else link


def wants_page(source: SourceConfig, item: FeedItem) -> bool:
    """Whether the item's full text is to come from its page rather than from the feed."""
    if source.full_text == "feed":
        return False
    from newsmirror.content.extract import needs_page

    return source.full_text != "auto" or needs_page(item.content_html)


def identifiable(items: tuple[FeedItem, ...]) -> tuple[list[FeedItem], list[tuple[FeedItem, Exception]]]:
    """The items whose identity can be worked out, and the others with the reason: one
    item that breaks identity must not cost its neighbours their keys."""
    keyed: list[FeedItem] = []
    failed: list[tuple[FeedItem, Exception]] = []
    for item in items:
        try:
            base_key(item)
            normalise_link(item.link)
        except Exception as err:  # noqa: BLE001 - one bad item costs that item
            failed.append((item, err))
        else:
            keyed.append(item)
    return keyed, failed


def item_digest(item: FeedItem) -> str:
    """What the feed said of an item; when it is the same as last time, the item is unchanged
    and no page is fetched again."""
    parts = [item.title, item.link or "", item.guid or "", item.content_html, str(item.published_ms)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass
class _Run:
    config: Config
    store: Store
    fetcher: Fetcher
    health: dict[str, SourceHealth]
    now_ms: int
    reporter: Progress
    page_fetcher: PageFetcher | None = None
    images: ImageDownloader | None = None
    force: bool = False
    """Attempt every source now, even one backing off."""
    ahead: dict[str, PagesAhead] = field(default_factory=dict)
    """Per source: the article pages being fetched ahead of its items' loop."""
    rules: tuple[SiteRule, ...] | None = None
    """The site rules (loaded when a source first needs them)."""
    shards: Shards | None = None
    """The archive's shards ([archive] rotate): where new files go, which are closed."""
    frozen: list[str] = field(default_factory=list)
    """Updated items whose files a closed shard holds: left as they are."""
    shard_written: list[str] = field(default_factory=list)
    """Files written into the open shard."""

    async def source(self, source: SourceConfig) -> SourceOutcome:
        outcome = SourceOutcome(source.slug, source.name)
        state = self.health.get(source.slug, SourceHealth())
        if not self.force and not should_attempt(state, self.now_ms):
            outcome.skipped = describe(state, self.now_ms)
            return outcome
        self.reporter.working(source.slug, "feed")
        try:
            result = await self.fetcher.fetch(source.url, etag=state.etag,
                                              last_modified=state.last_modified)
            if result.not_modified:
                outcome.not_modified = True
            else:
                feed = parse_feed(result.body, content_type=result.content_type, url=result.url)
                for failure in feed.failed_items:
                    outcome.failed_items.append(failure)
                    self.reporter.item_failed(source.slug, failure)
                await self.items_with_pages(source, feed.items, result.url, outcome)
            self.health[source.slug] = after_success(
                state, self.now_ms, etag=result.etag, last_modified=result.last_modified)
        except FetchError as err:
            outcome.failed = err.reason
            self.health[source.slug] = after_failure(
                state, self.now_ms, err, retry_after_s=err.retry_after_s, gone=err.gone)
        except (NotAFeedError, FeedParseError) as err:
            outcome.failed = str(err)
            self.health[source.slug] = after_failure(state, self.now_ms, str(err))
        except Exception as err:  # a bug or a surprise in one source must not stop the others
            if machine_error(err):
                raise  # a full disk, the catalog: every source would fail; stop the run
            outcome.failed = f"internal error: {type(err).__name__}: {err}"
            self.health[source.slug] = after_failure(state, self.now_ms, outcome.failed)
        return outcome

    async def items_with_pages(self, source: SourceConfig, items: tuple[FeedItem, ...],
                               feed_url: str, outcome: SourceOutcome) -> None:
        """`items`, with the article pages they need fetched side by side beforehand (within
        the fetcher's limits) rather than one after the other as the loop reaches them."""
        links = self.page_links(source, items, feed_url)
        if not links or self.page_fetcher is None:
            await self.items(source, items, feed_url, outcome)
            return
        fetch, slug = self.page_fetcher, source.slug
        ahead = PagesAhead(lambda url: fetch(source, url), links,
                           window=2 * self.fetcher.settings.concurrency,
                           started=lambda _url: self.reporter.working(slug, "page"),
                           finished=lambda _url: self.reporter.worked(slug, "page"))
        self.ahead[slug] = ahead
        try:
            await self.items(source, items, feed_url, outcome)
        finally:
            del self.ahead[slug]
            await ahead.close()

    def page_links(self, source: SourceConfig, items: tuple[FeedItem, ...],
                   feed_url: str) -> list[str]:
        """The links of the items whose page `items` will fetch, in feed order: new or
        changed items that need their page. Only a forecast: `page` fetches a page that
        was not forecast when it comes to it, and one forecast in vain is only fetched."""
        if self.page_fetcher is None or source.full_text == "feed":
            return []  # no item of it wants its page (wants_page): no identities worked out twice
        links = []
        keyed, _failed = identifiable(items)  # the loop reports those that are not
        for item, key in zip(keyed, assign_keys(keyed)):
            try:
                if key is None or not wants_page(source, item):
                    continue
                link, _guid, _ident, found = self.identify(source, item, key, feed_url)
                if found and (found[1] is None or found[1] == item_digest(item)
                              or self.shards and self.shards.closed(found[0].shard)):
                    continue  # unchanged, rebuilt from the files (the loop decides), or closed
            except Exception:  # noqa: BLE001 - only a forecast: the loop meets the item's fault
                continue
            links.append(link)
        return links

    def identify(self, source: SourceConfig, item: FeedItem, key: str, feed_url: str):
        """(link, guid, identity hash, (catalog entry, last feed digest) or None) of an item:
        its own entry, else an older mirror's file that holds it (updated where it is)."""
        link = (normalise_link(item.link, feed_url) or normalise_link(item.guid)
                or normalise_link(feed_url) or feed_url)
        plain = base_key(item)
        guid = item.guid if key == plain else None  # a GUID shared in the feed names no one item
        ident, found = self.lookup(source.slug, key, plain, link, source.strip_tracking)
        if found is None and (found := self.store.catalog.find_old(source.slug, link, guid)):
            ident = found[0].key
        return link, guid, ident, found

    async def items(self, source: SourceConfig, items: tuple[FeedItem, ...], feed_url: str,
                    outcome: SourceOutcome) -> None:
        """Archive each item under one guard: an item that fails is recorded with its
        reason (as a bug when it is an internal error) and the others go on. The machine's
        own failures (a full disk, the catalog) stop the run instead."""
        settings = content_settings(self.config, source)
        keyed, failed = identifiable(items)
        for item, err in failed:
            self.item_failed(source, outcome, item, "identity", err)
        for item, key in zip(keyed, assign_keys(keyed)):
            if key is None:
                continue
            step = ["identity"]
            try:
                await self.item(source, item, key, feed_url, settings, outcome, step)
            except Exception as err:  # one bad item costs that item
                if machine_error(err):
                    raise
                self.item_failed(source, outcome, item, step[0], err)

    def item_failed(self, source: SourceConfig, outcome: SourceOutcome, item: FeedItem,
                    step: str, err: Exception) -> None:
        failure = item_failure(item_name(item.link, item.title), step, err)
        outcome.failed_items.append(failure)
        self.reporter.item_failed(source.slug, failure)

    async def item(self, source: SourceConfig, item: FeedItem, key: str, feed_url: str,
                   settings: ContentSettings, outcome: SourceOutcome, step: list[str]) -> None:
        """Archive one item; `step[0]` says how far it got (for the failure's reason)."""
        catalog = self.store.catalog
        link, guid, ident, found = self.identify(source, item, key, feed_url)
        existing, last_digest = found if found else (None, None)
        shown = shown_link(source, link, existing)
        digest = item_digest(item)
        if existing and last_digest == digest:
            outcome.unchanged += 1
            return
        if existing and self.shards and self.shards.closed(existing.shard):
            # A closed shard is never written again; this version of the item is
            # remembered, so that it is not fetched again every hour.
            catalog.put(existing, digest, guid=guid)
            self.frozen.append(f"{existing.path} (shard {existing.shard})")
            outcome.unchanged += 1
            return
        step[0] = "cleaning"
        title = normalise_title(transform_title(item.title, settings)) or UNTITLED
        step[0] = "date"
        published = item.published_ms or (existing.published_ms if existing else self.now_ms)
        if existing and last_digest is None and source.full_text != "feed" \
                and existing.title == title and existing.link == shown:
            # The catalog was rebuilt from the files. A file that holds more than the
            # feed's own text already has its page: adopt it rather than fetch the page
            # again. One that holds just the feed's text is still waiting for its page.
            step[0] = "rendering"
            feed_only = render_article(Article(published, title, shown, transform_body(
                prepare_body(item.content_html, item, body_settings(source),
                             rule=self.rule(source, link)),
                base_url=link, settings=settings)))
            if digest_bytes(feed_only) != existing.digest:
                catalog.put(existing, digest)
                outcome.unchanged += 1
                return
        step[0] = "date"
        path = existing.path if existing else article_path(source.slug, published, title, ident)
        shard = existing.shard if existing else self.shards.target if self.shards else ""
        step[0] = "extraction"
        body, complete, from_page = await self.body(source, item, link)
        step[0] = "cleaning"
        body = prepare_body(body, item, body_settings(source), from_feed=not from_page,
                            rule=self.rule(source, link))
        if source.download_images and self.images is not None:
            step[0] = "cleaning"
            body = clean_body(body, base_url=link, settings=settings)
            step[0] = "images"
            self.reporter.working(source.slug, "images")
            try:
                body, assets = await self.images.localise(
                    body, base_url=link, slug=source.slug, published_ms=published,
                    article_path=path, shard=shard)
            finally:
                self.reporter.worked(source.slug, "images")
            (self.shard_written if shard else outcome.written).extend(assets)
            step[0] = "cleaning"
            body = finish_body(body, base_url=None, settings=settings)
        else:
            step[0] = "cleaning"
            body = transform_body(body, base_url=link, settings=settings)
        step[0] = "rendering"
        data = render_article(Article(published, title, shown, body))
        entry = ArchivedEntry(
            slug=source.slug, key=ident, path=path,
            published_ms=published, title=title, link=shown, digest=digest_bytes(data), shard=shard)
        crashpoints.reached("article-rendered")
        step[0] = "writing"
        if existing and existing.digest == entry.digest:
            outcome.unchanged += 1
        elif existing and last_digest is None and same_as_old_file(self.store.root, existing.path, data):
            outcome.unchanged += 1  # an older mirror's rendering of the same article: kept
            entry = existing
        else:
            # A path the catalog does not know is not read back first: at most a file a
            # killed run wrote there, which is replaced whole by the same rename.
            self.store.write(entry.path, data, new=existing is None, shard=entry.shard)
            crashpoints.reached("article-written")
            (self.shard_written if entry.shard else outcome.written).append(entry.path)
            if existing:
                outcome.updated += 1
            else:
                outcome.new += 1
        catalog.put(entry, digest if complete else PAGE_PENDING, guid=guid)

    def rule(self, source: SourceConfig, link: str) -> SiteRule | None:
        """The site rule for `link`, when the source cleans its feed bodies with it."""
        if not source.clean_feed:
            return None
        if self.rules is None:
            self.rules = load_rules(self.config.site_rules)
        return rules_for(link, self.rules)

    def lookup(self, slug: str, key: str, plain: str, link: str, stripped: bool = False):
        """The item's identity hash and catalog entry (None when new). A GUID can be shared
        by several items of one feed (then the key carries the link too) and can stop being
        shared: each form is tried, and a match under another form counts only when its
        link is this item's (as the feed gives it, or without its tracking parameters when
        `stripped`: the link line of an article written so)."""
        catalog = self.store.catalog
        links = {link, strip_tracking(link)} if stripped else {link}
        ident = key_hash(slug, key)
        if key == plain and plain.startswith("guid:"):
            # Not shared now; this item may have been archived with its link while the GUID
            # was shared (and the plain GUID may name another item's file). Both forms are
            # asked for at once: a new item, all of a cold run, has neither.
            found, qualified = catalog.get_both(slug, ident, key_hash(slug, f"{plain}|{link}"))
            if qualified and (found is None or found[0].link not in links):
                return qualified[0].key, qualified
            return ident, found
        found = catalog.get(slug, ident)
        if key != plain and found is None:
            # Shared now; it may have been archived when it was not.
            earlier = catalog.get(slug, key_hash(slug, plain))
            if earlier and earlier[0].link in links:
                return earlier[0].key, earlier
        return ident, found

    async def body(self, source: SourceConfig, item: FeedItem, link: str) -> tuple[str, bool, bool]:
        """The article HTML, whether it is final (False: a page fetch failed and the feed's
        own content stands in until a later run succeeds), and whether it is the page's."""
        if self.page_fetcher is None or not wants_page(source, item):
            return item.content_html, True, False
        page = await self.page(source, link)
        return (page, True, True) if page else (item.content_html, False, False)

    async def page(self, source: SourceConfig, link: str) -> str | None:
        """The article's full text from its page: fetched ahead when it was forecast."""
        ahead = self.ahead.get(source.slug)
        if ahead is not None and link in ahead:
            return await ahead.get(link)
        assert self.page_fetcher is not None
        self.reporter.working(source.slug, "page")
        try:
            return await self.page_fetcher(source, link)
        finally:
            self.reporter.worked(source.slug, "page")


def _commit_message(outcomes: list[SourceOutcome], regenerated: list[str],
                    health_changed: list[str], repaired: list[str]) -> str:
    changed = [o for o in outcomes if o.new or o.updated]
    if changed:
        new, updated = sum(o.new for o in changed), sum(o.updated for o in changed)
        counts = " and ".join(part for part in (f"{new} new" if new else "",
                                                f"{updated} updated" if updated else "") if part)
        noun = "article" if new + updated == 1 else "articles"
        return commit_message(
            f"Mirror {counts} {noun} from {', '.join(o.slug for o in changed[:5])}"
            + (f" and {plural(len(changed) - 5, 'more source')}" if len(changed) > 5 else ""),
            [f"{o.slug} ({o.name}): {o.new} new, {o.updated} updated" for o in changed])
    if repaired:
        return commit_message("Commit what an interrupted run left", repaired)
    if regenerated:
        return commit_message(f"Regenerate {plural(len(regenerated), 'list, feed or index page')}",
                              regenerated[:20])
    return commit_message(f"Record source health of {', '.join(health_changed)}")


async def run_mirror(config: Config, *, push: bool = True, reporter: Progress | None = None,
                     now_ms: int | None = None, only: Collection[str] | None = None,
                     force: bool = False) -> RunReport:
    """One run. `only`: the slugs of the sources to run (None: every enabled one);
    `force`: attempt them even while they back off."""
    reporter = reporter if reporter is not None else Reporter()
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    report = RunReport()
    with open_session(config, report) as session:
        store = session.store
        report.notes = list(store.repaired)
        for note in store.repaired:
            reporter.note(note)
        # First: a shard's clone may lack articles the catalog knew (store.lost) too.
        shards = session.open_shards(now_ms, start=True)
        for note in shards.notes if shards else ():
            report.notes.append(note)
            reporter.note(note)
        committed_file, cached_file = state_files(store.root)
        health, problems = load_states(committed_file, cached_file, keep_bad=True)
        for problem in problems:
            report.warnings.append(problem)
        if lost := sorted(store.lost & set(health)):
            # Their last validators belong to articles that never reached the remote:
            # a 304 now would keep those articles out for good. Ask for the whole feed.
            for slug in lost:
                health[slug] = replace(health[slug], etag=None, last_modified=None)
            note = (f"commits of an earlier run never reached the remote (its push failed); "
                    f"fetching these sources in full again: {', '.join(lost)}")
            report.notes.append(note)
            reporter.note(note)
        stats = store.catalog.stats()
        for slug, state in health.items():  # what an older health file did not record
            health[slug] = migrate(state, stats[slug].newest_ms if slug in stats else None, now_ms)
        # What is committed now: a change from it to something durable is worth a commit.
        before = {slug: durable(h) for slug, h in read_health(store.health_path).states.items()}
        sources = [s for s in config.sources if s.enabled and (only is None or s.slug in only)]
        reporter.start(len(sources))
        store.catalog.begin()
        async with Fetcher(config.fetch) as fetcher:
            pages = PageFetcher(fetcher, store.cache / "pages", config.site_rules)
            images = ImageDownloader(fetcher, store.shard_root, store.catalog)
            run = _Run(config, store, fetcher, health, now_ms, reporter, pages, images, force=force,
                       shards=shards)

            async def one(source: SourceConfig) -> SourceOutcome:
                outcome = await run.source(source)
                reporter.source_done(outcome)
                return outcome

            report.outcomes = list(await asyncio.gather(*(one(s) for s in sources)))
            report.page_failures = dict(pages.failures)
            report.image_failures = dict(images.failures)
        if run.frozen:
            note = (f"left {plural(len(run.frozen), 'update')} of articles in closed shards as they are: "
                    f"{', '.join(run.frozen[:5])}" + (" …" if len(run.frozen) > 5 else ""))
            report.notes.append(note)
            reporter.note(note)
        _update_health(config, store, health, report.outcomes, now_ms)
        await _alert(config, health, now_ms, report)
        report.health = dict(health)
        write_atomic(cached_file, dump_health(health, written_ms=now_ms))
        changed = {o.slug for o in report.outcomes if o.new or o.updated}
        regenerated = (shards.started if shards else []) + regenerate(
            config, store, None if store.stale is None else changed | store.stale, health=health)
        health_changed = [slug for slug, h in health.items() if before.get(slug) != durable(h)]
        if not report.ok and not health_changed:
            # A run that exits 1 keeps its state in the commit as well: a workflow's cache
            # is commonly saved only when the job succeeds.
            health_changed = [o.slug for o in report.outcomes if o.failed]
        # A mirror that started or stopped failing (in an earlier run's pushes) is worth a
        # commit too, so that its state survives a lost cache.
        mirror_names = [m.name for m in config.mirrors]
        mirrors_changed = snapshot_changed(store.root, mirror_names)
        if report.new or report.updated or regenerated or health_changed or mirrors_changed \
                or not store.clean_start:
            # The committed snapshot is rewritten only with a commit: an idle hour leaves it.
            store.write(HEALTH_FILE, dump_health(health, written_ms=now_ms))
            if (mirror_states := snapshot(store.root, mirror_names, now_ms)) is not None:
                store.write(MIRRORS_FILE, mirror_states)
            message = _commit_message(report.outcomes, regenerated,
                                      [f"{slug} ({health[slug].state})" for slug in health_changed]
                                      + mirrors_changed, store.repaired)
            # After a clean start git is told exactly what changed, so it need not look at
            # every file; after an interrupted one, whole folders, to take in what it left.
            paths = [*GENERATED, *(s.list_file for s in config.sources)] if not store.clean_start else sorted(
                {p for o in report.outcomes for p in o.written} | set(regenerated)
                | {HEALTH_FILE, MIRRORS_FILE, ".gitignore"})
            if shards:  # first, so that the main repository never lists what no commit holds
                report.shard_commit = shards.commit(store, sorted(run.shard_written), message)
                if report.shard_commit and shards.open:
                    report.shard_repo = shard_name(config, shards.open, shards.primary)
                crashpoints.reached("shard-committed")
            session.commit(paths, message)
            crashpoints.reached("committed")
        store.catalog.commit()
        crashpoints.reached("cataloged")
        store.mark_clean()
        session.push(push, now_ms=now_ms)
        return report


def _update_health(config: Config, store: Store, health: dict[str, SourceHealth],
                   outcomes: list[SourceOutcome], now_ms: int) -> None:
    """Article counts, when each source last had a new article and its usual interval
    between articles, and the state each source is in now."""
    stats = store.catalog.stats()
    for slug, state in health.items():
        if slug in stats:
            health[slug] = replace(state, articles=stats[slug].articles)
    new = {o.slug for o in outcomes if o.new}
    for source in config.sources:
        known = health.get(source.slug)
        if known is None or not source.enabled:
            continue
        if source.slug in new:
            times = [e.published_ms for e in store.catalog.latest(source.slug, RECENT_ARTICLES)]
            known = after_new_articles(known, now_ms, times)
        health[source.slug] = replace(known, state=alert_state(known, now_ms,
                                                               config.alerts.after_failures))


async def _alert(config: Config, health: dict[str, SourceHealth], now_ms: int,
                 report: RunReport) -> None:
    """POST each change of state to the webhook; remember what was delivered."""
    from newsmirror.alerts.webhook import alert_payload, resolve_webhook, send_alerts

    url, problem = resolve_webhook(config.alerts)
    if problem:
        report.warnings.append(problem)
    if not url:
        return
    pending = [(s.slug, alert_payload(s, health[s.slug], health[s.slug].alerted, now_ms, config.title))
               for s in config.sources
               if s.enabled and s.slug in health and health[s.slug].state != health[s.slug].alerted]
    delivery = await send_alerts(url, pending, config.fetch)
    for slug in delivery.delivered:
        health[slug] = replace(health[slug], alerted=health[slug].state)
    if delivery.problem:
        report.warnings.append(delivery.problem)
