from newsmirror.models import ArchivedEntry
from newsmirror.publish.lists import ListedSource, render_index, render_list


def entry(ms, title, path):
    return ArchivedEntry("voa", "k", path, ms, title, "https://x.test/", "d")


def test_list_page_matches_the_old_mirrors_layout():
    data = render_list("美国之音", [
        entry(1677782400000, "第二天", "articles/voa/2023/03/b-000000000002.md"),  # 3-3 UTC+8
        entry(1677695943000, "第一天", "articles/voa/2023/03/a-000000000001.md"),  # 3-2 02:39 UTC+8
    ])
    assert data.decode() == (
        "美国之音\n------\n\n"
        "3-3 [第二天](/articles/voa/2023/03/b-000000000002.md)\n\n"
        "3-2 [第一天](/articles/voa/2023/03/a-000000000001.md)\n"
    )


def test_brackets_in_titles_do_not_break_links():
    data = render_list("x", [entry(0, "[快讯] a]b", "articles/voa/1970/01/a-000000000001.md")])
    assert "[\\[快讯\\] a\\]b](/articles/" in data.decode()


def test_index_links_every_source_without_clock_time():
    data = render_index("镜像", [ListedSource("voa", "美国之音", 12, 1677695943000),
                                 ListedSource("bbc", "BBC 中文", 0, None)]).decode()
    assert "| [美国之音](lists/voa.md) | 12 | 2023-03-02 02:39 |" in data
    assert "| [BBC 中文](lists/bbc.md) | 0 | — |" in data
    assert data == render_index("镜像", [ListedSource("voa", "美国之音", 12, 1677695943000),
                                         ListedSource("bbc", "BBC 中文", 0, None)]).decode()


def test_list_titles_follow_the_line_2_rule():
    from tests.rendered import only_link

    kept = ["[视频] 拜登  与习近平通话　两小时", "美国 &quot;重返&quot; 亚洲"]
    hostile = ["a](https://evil.example/phish) [b", "<a href='https://evil.example'>x</a>", "尾巴 \\"]
    data = render_list("x", [entry(0, t, f"articles/voa/1970/01/a-{i:012d}.md")
                             for i, t in enumerate(kept + hostile)]).decode()
    lines = data.split("\n")[3::2]
    for i, title in enumerate(kept):
        assert lines[i] == f"1-1 [{title}](/articles/voa/1970/01/a-{i:012d}.md)"
    for i, line in enumerate(lines[len(kept):len(kept) + len(hostile)], start=len(kept)):
        shown = only_link(line.removeprefix("1-1 "))
        assert shown is not None and shown.href == f"/articles/voa/1970/01/a-{i:012d}.md", line
        assert shown.text == hostile[i - len(kept)]


def test_the_readme_lists_the_other_copies_and_the_feeds():
    from newsmirror.publish.mirrors import Copy

    copies = [Copy("origin", "https://github.com/me/news", "github",
                   "https://github.com/me/news/raw/main/feeds/all.xml"),
              Copy("gitea", "https://git.example.org/me/news", "other", None)]
    text = render_index("镜像", [ListedSource("voa", "美国之音", 12, 1677695943000)],
                        copies=copies, feeds=[("全部文章", "feeds/all.xml"),
                                              ("美国之音", "feeds/voa.xml")]).decode()
    assert "## 其他副本" in text and "## 订阅" in text
    assert ("- [origin](https://github.com/me/news) · "
            "[订阅（Atom）](https://github.com/me/news/raw/main/feeds/all.xml)") in text
    assert "- [gitea](https://git.example.org/me/news)\n" in text
    assert "- [全部文章](feeds/all.xml)\n- [美国之音](feeds/voa.xml)" in text
    full = render_index("镜像", [], feeds=[("全部文章", "feeds/all.xml")],
                        full_feed="https://me.github.io/news/feeds/all.xml").decode()
    assert full.endswith("- [全部文章](feeds/all.xml)\n\n这些订阅只含标题和链接。含全文的订阅在阅读网站上："
                         "[全部文章（全文）](https://me.github.io/news/feeds/all.xml)\n"), full
    plain = render_index("镜像", [ListedSource("voa", "美国之音", 12, 1677695943000)]).decode()
    assert "其他副本" not in plain and "订阅" not in plain
