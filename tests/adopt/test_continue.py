"""Continuing an older mirror's archive: the old files are recognised where they are,
repeated feed items are never written twice, edited ones update the old file in place,
and lists, README and feeds give one history, newest first by the files' stamps."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

from pytest_httpserver import HTTPServer

from newsmirror.archive.article import parse_article
from newsmirror.archive.catalog import Catalog
from newsmirror.publish.readme import BEGIN, END
from tests.adopt.oldarchive import (
    OLD_README,
    TOP_ID,
    Old,
    commit_all,
    init_repo,
    old_list,
    snapshot,
    write_folder,
)
from tests.helpers import git
from tests.jobs.feeds import Item, rss

HOUR = 3_600_000
T_OLD = 1_677_695_943_000  # 2023-03-01, the FORMAT.md example's stamp
VOA = "https://www.voachinese.com/a/"
_ENTRY = re.compile(r"^\d{1,2}-\d{1,2} \[.*\]\((/[^)]+)\)$")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)


def old_voa(k: int) -> Old:
    """The k-th oldest article; ids count down, so a newer article has a smaller id."""
    return Old(TOP_ID - 21480 - k, f"旧闻{k}：美国之音报道", f"{VOA}old-{k}.html",
               f"<p>第{k}篇的正文。</p><img src=\"https://images.weserv.nl?url=gdb.voanews.com/{k}.jpg\">",
               T_OLD + k * HOUR)


def listed_paths(page: bytes) -> list[str]:
    """The article paths a list page links to, in its order."""
    found = []
    for line in page.decode().split("\n"):
        if match := _ENTRY.match(line):
            found.append(unquote(match.group(1)).lstrip("/"))
    return found


def stamp(root: Path, relpath: str) -> int:
    return parse_article((root / relpath).read_bytes()).published_ms


def links(root: Path) -> list[str]:
    return [parse_article(data).link for data in snapshot(root).values()]


def build_voa_archive(root: Path) -> dict[str, bytes]:
    init_repo(root)
    files = write_folder(root, "voa", [old_voa(k) for k in range(6)])
    (root / "lists").mkdir()
    (root / "lists" / "美国之音.md").write_bytes(old_list("美国之音", "voa", files))
    (root / "README.md").write_text(OLD_README, encoding="utf-8")
    commit_all(root)
    return files


def feed_items(edited: bool = True) -> list[Item]:
    """The feed repeats the three newest old articles (the images now without the proxy,
    one of them edited) and has two new ones."""
    items = []
    for k in (5, 4, 3):
        old = old_voa(k)
        body = old.body.replace("https://images.weserv.nl?url=", "https://")
        if k == 4 and edited:
            body = body.replace("的正文。", "的正文（更正）。")
        items.append(Item(old.title, old.link, body, guid=f"voa-{k}", date_ms=old.ms))
    for n in (1, 2):
        items.append(Item(f"新闻{n}", f"{VOA}new-{n}.html", f"<p>新文章{n}。</p>", guid=f"voa-new-{n}",
                          date_ms=T_OLD + (10 + n) * HOUR))
    return items


def voa_source(url: str) -> dict:
    return {"slug": "voa", "name": "美国之音", "url": url, "list_path": "lists/美国之音.md"}


def test_a_repeating_feed_continues_the_old_archive(mirror, httpserver: HTTPServer, tmp_path: Path):
    old = build_voa_archive(mirror.archive)
    httpserver.expect_request("/voa.xml").respond_with_data(rss(feed_items()), content_type="application/rss+xml")
    sources = [voa_source(httpserver.url_for("/voa.xml"))]

    report = mirror.run(sources, now_ms=T_OLD + 20 * HOUR)
    outcome = report.outcomes[0]
    assert outcome.failed is None, outcome
    assert (report.new, report.updated, outcome.unchanged) == (2, 1, 2)
    after = snapshot(mirror.archive)
    edited = f"articles/voa/{old_voa(4).old_id}.md"
    # Untouched byte for byte, the edited one updated where it was; nothing moved.
    assert {p: d for p, d in after.items() if p in old and p != edited} == {p: d for p, d in old.items() if p != edited}
    assert "（更正）" in after[edited].decode() and after[edited] != old[edited]
    new = sorted(set(after) - set(old))
    assert len(new) == 2 and all(re.match(r"articles/voa/2023/03/.+-[0-9a-f]{12}\.md$", p) for p in new)
    assert sorted(links(mirror.archive)) == sorted(set(links(mirror.archive)))  # no duplicates

    # One history on the page readers already use, newest first by stamp, in its format.
    page = (mirror.archive / "lists" / "美国之音.md").read_bytes()
    assert page.startswith("美国之音\n------\n\n".encode())
    listed = listed_paths(page)
    assert sorted(listed) == sorted(after)
    assert listed == sorted(after, key=lambda p: -stamp(mirror.archive, p))
    assert not (mirror.archive / "lists" / "voa.md").exists()
    # The operator's README is kept; the index is added between markers, linking the page.
    readme = (mirror.archive / "README.md").read_bytes()
    assert readme.startswith(OLD_README.encode())
    assert BEGIN in readme and readme.rstrip().endswith(END)
    assert "lists/%E7%BE%8E%E5%9B%BD%E4%B9%8B%E9%9F%B3.md" in readme.decode()
    assert "| 8 |" in readme.decode()
    # The Atom feed has the old articles too.
    atom = (mirror.archive / "feeds" / "voa.xml").read_text(encoding="utf-8")
    assert old_voa(3).link in atom and f"{VOA}new-2.html" in atom

    # The same feed again: nothing to do, no commit.
    commits = mirror.commits()
    again = mirror.run(sources, now_ms=T_OLD + 21 * HOUR)
    assert (again.new, again.updated, again.commit) == (0, 0, None)
    assert mirror.commits() == commits

    # A fresh clone, without the cache: the old files are recognised from what they hold.
    clone = tmp_path / "clone"
    git("clone", "-q", str(mirror.remote), str(clone), cwd=tmp_path)
    assert not (clone / ".newsmirror" / "cache").exists()
    mirror.archive = clone
    third = mirror.run(sources, now_ms=T_OLD + 22 * HOUR)
    assert (third.new, third.updated, third.outcomes[0].unchanged) == (0, 0, 5)
    assert third.commit is None
    assert snapshot(clone) == after

    # rebuild (no cache again) reads the old files as well and changes nothing.
    git("clean", "-qfdx", cwd=clone)
    config = tmp_path / "newsmirror.toml"
    config.write_text('[archive]\npath = "clone"\npush = false\n[[sources]]\nslug = "voa"\n'
                      f'name = "美国之音"\nurl = "{httpserver.url_for("/voa.xml")}"\n'
                      'list_path = "lists/美国之音.md"\n', encoding="utf-8")
    done = cli("rebuild", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("8 articles read; 0 derived files rewritten"), done.stdout
    assert git("status", "--porcelain", cwd=clone) == ""


def test_an_edit_after_adoption_updates_the_old_file_in_place(mirror, httpserver: HTTPServer):
    old = build_voa_archive(mirror.archive)
    path = f"articles/voa/{old_voa(4).old_id}.md"
    httpserver.expect_request("/voa.xml").respond_with_data(rss(feed_items(edited=False)),
                                                            content_type="application/rss+xml")
    sources = [voa_source(httpserver.url_for("/voa.xml"))]
    first = mirror.run(sources, now_ms=T_OLD + 20 * HOUR)
    assert (first.new, first.updated) == (2, 0)
    assert snapshot(mirror.archive)[path] == old[path]  # only the markup differed: kept
    httpserver.clear()
    httpserver.expect_request("/voa.xml").respond_with_data(rss(feed_items(edited=True)),
                                                            content_type="application/rss+xml")
    second = mirror.run(sources, now_ms=T_OLD + 21 * HOUR)
    assert (second.new, second.updated) == (0, 1)
    assert second.outcomes[0].written == [path]
    assert "（更正）" in (mirror.archive / path).read_text(encoding="utf-8")
    assert len(snapshot(mirror.archive)) == 8


def test_six_digit_ids_are_listed_by_stamp_not_by_name(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    # Ids count down across the 1,000,000 boundary; the stamps are the articles' own.
    ids = [1000002, 1000001, 1000000, 999999, 999998, 999997]
    stamps = [T_OLD + h * HOUR for h in (0, 3, 1, 5, 2, 4)]
    arts = [Old(i, f"法广{i}", f"https://www.rfi.fr/cn/{i}", f"<p>{i}</p>", ms) for i, ms in zip(ids, stamps)]
    write_folder(mirror.archive, "rfi", arts)
    commit_all(mirror.archive)
    repeat = arts[3]
    httpserver.expect_request("/rfi.xml").respond_with_data(
        rss([Item(repeat.title, repeat.link, repeat.body, guid=repeat.link, date_ms=repeat.ms)]),
        content_type="application/rss+xml")
    report = mirror.run([{"slug": "rfi", "name": "法广", "url": httpserver.url_for("/rfi.xml")}],
                        now_ms=T_OLD + 9 * HOUR)
    assert (report.new, report.updated, report.outcomes[0].unchanged) == (0, 0, 1)
    listed = listed_paths((mirror.archive / "lists" / "rfi.md").read_bytes())
    by_stamp = [f"articles/rfi/{a.old_id}.md" for a in sorted(arts, key=lambda a: -a.ms)]
    assert listed == by_stamp
    assert listed != sorted(listed, reverse=True) and listed != sorted(listed)  # names would mislead


def test_the_earlier_title_in_name_layout_under_a_station_folder(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    # The earlier mirror wrote links as the feed gave them (not percent-encoded).
    arts = [Old(TOP_ID - k, f"标题{k}/副标题", f"{VOA}标题{k}.html", f"<p>{k}</p>", T_OLD + k * HOUR)
            for k in range(3)]
    files = write_folder(mirror.archive, "美国之音", arts, titled=True)
    assert f"articles/美国之音/{TOP_ID}_标题0--副标题.md" in files
    commit_all(mirror.archive)
    items = [Item(a.title, a.link, a.body, guid=None, date_ms=a.ms) for a in arts[1:]]
    items.append(Item("新标题", f"{VOA}t9.html", "<p>9</p>", date_ms=T_OLD + 9 * HOUR))
    httpserver.expect_request("/voa.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    source = {"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml"), "folder": "美国之音"}
    report = mirror.run([source], now_ms=T_OLD + 10 * HOUR)
    assert (report.new, report.updated, report.outcomes[0].unchanged) == (1, 0, 2)
    after = snapshot(mirror.archive)
    assert {p: after[p] for p in files} == files
    assert len(after) == 4
    listed = listed_paths((mirror.archive / "lists" / "voa.md").read_bytes())
    assert listed[0].startswith("articles/voa/2023/03/") and set(listed[1:]) == set(files)


def test_a_folder_of_twenty_thousand_old_files(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    count = 20_000
    arts = [Old(TOP_ID - k, f"第{k}条", f"https://www.rfa.org/mandarin/{k}.html", f"<p>{k}</p>",
                T_OLD + k * 60_000) for k in range(count)]
    files = write_folder(mirror.archive, "rfa", arts)
    commit_all(mirror.archive)
    newest = arts[-5:]
    items = [Item(a.title, a.link, a.body, guid=a.link, date_ms=a.ms) for a in newest]
    items.append(Item(arts[7].title, arts[7].link, arts[7].body, guid=arts[7].link, date_ms=arts[7].ms))
    items.append(Item("新的一条", "https://www.rfa.org/mandarin/new.html", "<p>new</p>",
                      date_ms=T_OLD + count * 60_000))
    httpserver.expect_request("/rfa.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    report = mirror.run([{"slug": "rfa", "name": "自由亚洲电台", "url": httpserver.url_for("/rfa.xml")}],
                        now_ms=T_OLD + count * 60_000 + HOUR, archive={"path": str(mirror.archive),
                                                                      "remote": str(mirror.remote),
                                                                      "list_size": 50})
    assert (report.new, report.updated, report.outcomes[0].unchanged) == (1, 0, 6)
    after = snapshot(mirror.archive)
    assert len(after) == count + 1
    assert all(after[p] == d for p, d in files.items())
    listed = listed_paths((mirror.archive / "lists" / "rfa.md").read_bytes())
    assert len(listed) == 50 and listed[0].startswith("articles/rfa/2023/")
    assert listed[1:] == [f"articles/rfa/{a.old_id}.md" for a in reversed(arts[-49:])]
    assert f"| {count + 1} |" in (mirror.archive / "README.md").read_text(encoding="utf-8")


def test_a_list_page_outside_lists_is_kept_up_to_date_and_committed(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    arts = [Old(TOP_ID - k, f"旧{k}", f"{VOA}p{k}.html", f"<p>{k}</p>", T_OLD + k * HOUR) for k in range(2)]
    files = write_folder(mirror.archive, "voa", arts)
    (mirror.archive / "美国之音.md").write_bytes(old_list("美国之音（旧版）", "voa", files))
    commit_all(mirror.archive)
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item("新", f"{VOA}p9.html", "<p>9</p>", date_ms=T_OLD + 9 * HOUR)]),
        content_type="application/rss+xml")
    source = {"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml"),
              "list_path": "美国之音.md"}
    report = mirror.run([source], now_ms=T_OLD + 10 * HOUR)
    assert report.new == 1 and report.commit
    page = git("show", "HEAD:美国之音.md", cwd=mirror.archive)
    assert page.startswith("美国之音（旧版）\n------\n")  # the heading it had
    assert listed_paths(page.encode())[1:] == [f"articles/voa/{a.old_id}.md" for a in reversed(arts)]
    assert git("status", "--porcelain", cwd=mirror.archive) in ("", "M .newsmirror/health.json")


def test_once_matched_an_old_file_is_known_by_its_guid_too(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    old = Old(TOP_ID - 5, "旧标题", f"{VOA}first-address.html", "<p>正文</p>", T_OLD)
    files = write_folder(mirror.archive, "voa", [old])
    commit_all(mirror.archive)
    url = httpserver.url_for("/voa.xml")
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item(old.title, old.link, old.body, guid="voa-123", date_ms=old.ms)]), content_type="application/rss+xml")
    first = mirror.run([{"slug": "voa", "name": "美国之音", "url": url}], now_ms=T_OLD + HOUR)
    assert (first.new, first.updated) == (0, 0)
    httpserver.clear()
    # The publisher moved the article to another address and corrected it; the GUID stayed.
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item("新标题", f"{VOA}second-address.html", "<p>正文（更正）</p>", guid="voa-123", date_ms=old.ms)]),
        content_type="application/rss+xml")
    second = mirror.run([{"slug": "voa", "name": "美国之音", "url": url}], now_ms=T_OLD + 2 * HOUR)
    assert (second.new, second.updated) == (0, 1)
    [path] = files
    assert list(snapshot(mirror.archive)) == [path]
    assert parse_article((mirror.archive / path).read_bytes()).link == f"{VOA}second-address.html"


def test_a_page_source_keeps_old_files_that_hold_their_page(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    # The old mirror fetched the page (a long body) and kept the feed's raw link.
    link = httpserver.url_for("/a/标题.html")
    old = Old(TOP_ID - 3, "整页文章", link, "<p>" + "整页正文。" * 200 + "</p>", T_OLD)
    files = write_folder(mirror.archive, "voa", [old])
    commit_all(mirror.archive)
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item(old.title, link, "<p>摘要</p>", guid="voa-p", date_ms=old.ms)]), content_type="application/rss+xml")
    report = mirror.run([{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml"),
                          "full_text": "page"}], now_ms=T_OLD + HOUR)
    assert (report.new, report.updated, report.outcomes[0].unchanged) == (0, 0, 1)
    assert snapshot(mirror.archive) == files
    assert [r.path for r, _ in httpserver.log] == ["/voa.xml"]  # the page was not fetched again


BACKSLASH_TITLE = '他说\\"不\\"：C:\\\\新闻'  # a feed title with backslashes of its own


def catalog_titles(root: Path) -> dict[str, str]:
    catalog = Catalog(root / ".newsmirror" / "cache" / "catalog.sqlite")
    try:
        return {entry.path: entry.title for entry in catalog.entries()}
    finally:
        catalog.close()


def test_an_old_file_whose_title_holds_backslashes_is_kept_as_it_is(mirror, httpserver: HTTPServer, tmp_path: Path):
    # The older mirror wrote the title raw: `[他说\"不\"：C:\\新闻](…)`.
    init_repo(mirror.archive)
    old = Old(TOP_ID, BACKSLASH_TITLE, f"{VOA}quote.html", "<p>引号的正文。</p>", T_OLD)
    files = write_folder(mirror.archive, "voa", [old])
    assert list(files) == ["articles/voa/1048575.md"]
    assert f"[{BACKSLASH_TITLE}]({VOA}quote.html)".encode() in files["articles/voa/1048575.md"]
    commit_all(mirror.archive)
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item(BACKSLASH_TITLE, old.link, old.body, guid="voa-q", date_ms=old.ms)]),
        content_type="application/rss+xml")
    url = httpserver.url_for("/voa.xml")
    report = mirror.run([{"slug": "voa", "name": "美国之音", "url": url}], now_ms=T_OLD + HOUR)
    assert report.outcomes[0].failed is None, report.outcomes[0]
    assert (report.new, report.updated, report.outcomes[0].unchanged) == (0, 0, 1)
    assert snapshot(mirror.archive) == files
    assert catalog_titles(mirror.archive) == {"articles/voa/1048575.md": BACKSLASH_TITLE}

    # rebuild, without the cache, reads the title as the feed gives it.
    git("clean", "-qfdx", cwd=mirror.archive)
    config = tmp_path / "newsmirror.toml"
    config.write_text(f'[archive]\npath = "archive"\npush = false\n[[sources]]\nslug = "voa"\n'
                      f'name = "美国之音"\nurl = "{url}"\n', encoding="utf-8")
    done = cli("rebuild", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert catalog_titles(mirror.archive) == {"articles/voa/1048575.md": BACKSLASH_TITLE}
    assert snapshot(mirror.archive) == files


def test_a_file_an_older_newsmirror_wrote_with_a_raw_backslash_title_is_kept(mirror, httpserver: HTTPServer,
                                                                             tmp_path: Path):
    link = f"{VOA}quote.html"
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item(BACKSLASH_TITLE, link, "<p>引号的正文。</p>", guid="voa-q", date_ms=T_OLD)]),
        content_type="application/rss+xml")
    sources = [{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml")}]
    assert mirror.run(sources, now_ms=T_OLD + HOUR).new == 1
    [path] = snapshot(mirror.archive)
    # An older newsmirror wrote line 2 raw, as the old mirrors did.
    lines = (mirror.archive / path).read_text(encoding="utf-8").split("\n")
    assert lines[1] != f"[{BACKSLASH_TITLE}]({link})"
    lines[1] = f"[{BACKSLASH_TITLE}]({link})"
    (mirror.archive / path).write_text("\n".join(lines), encoding="utf-8")
    commit_all(mirror.archive, "older newsmirror")
    git("push", "-q", "origin", "HEAD", cwd=mirror.archive)
    before = snapshot(mirror.archive)

    # A fresh clone, without the cache: the catalog is rebuilt from the files.
    clone = tmp_path / "clone"
    git("clone", "-q", str(mirror.remote), str(clone), cwd=tmp_path)
    mirror.archive = clone
    report = mirror.run(sources, now_ms=T_OLD + 2 * HOUR)
    assert (report.new, report.updated, report.outcomes[0].unchanged) == (0, 0, 1)
    assert snapshot(clone) == before
    assert catalog_titles(clone) == {path: BACKSLASH_TITLE}


def test_pages_are_fetched_ahead_only_for_items_no_old_file_holds(mirror, httpserver: HTTPServer):
    init_repo(mirror.archive)
    old_link = httpserver.url_for("/a/old.html")
    old = Old(TOP_ID - 3, "整页文章", old_link, "<p>" + "整页正文。" * 200 + "</p>", T_OLD)
    write_folder(mirror.archive, "voa", [old])
    commit_all(mirror.archive)
    new_link = httpserver.url_for("/a/new.html")
    httpserver.expect_request("/a/new.html").respond_with_data(
        "<html><body><article><p>" + "新文章的全文。" * 80 + "</p></article></body></html>",
        content_type="text/html; charset=utf-8")
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss([Item(old.title, old_link, "<p>摘要</p>", guid="voa-old", date_ms=old.ms),
             Item("新文章", new_link, "<p>摘要</p>", guid="voa-new", date_ms=old.ms + HOUR)]),
        content_type="application/rss+xml")
    report = mirror.run([{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml"),
                          "full_text": "page"}], now_ms=T_OLD + 2 * HOUR)
    assert (report.new, report.updated) == (1, 0)
    # The old file already holds its page: only the new item's page is asked for.
    assert sorted(r.path for r, _ in httpserver.log) == ["/a/new.html", "/voa.xml"]
