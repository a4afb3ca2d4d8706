"""The archive README tells readers which sources are dead or stale, in Chinese."""

from newsmirror.publish.lists import ListedSource, render_index


def test_dead_and_stale_sources_are_marked_for_readers():
    sources = [ListedSource("voa", "美国之音", 12, 1677695943000),
               ListedSource("rfi", "法广 RFI", 5, 1677695943000, state="stale"),
               ListedSource("ft", "FT中文网", 3, None, state="dead")]
    text = render_index("镜像", sources).decode()
    assert "| [美国之音](lists/voa.md) | 12 |" in text
    assert "| [法广 RFI](lists/rfi.md)（停止更新） | 5 | 2023-03-02 02:39 |" in text
    assert "| [FT中文网](lists/ft.md)（已失效） | 3 | — |" in text
    legend = text.split("| — |\n", 1)[1]
    assert legend.index("**已失效**") < legend.index("**停止更新**")
    assert "七天" in legend and "很久没有新文章" in legend


def test_a_healthy_archive_readme_is_unchanged():
    healthy = [ListedSource("voa", "美国之音", 12, 1677695943000), ListedSource("bbc", "BBC", 0, None)]
    text = render_index("镜像", healthy).decode()
    assert "已失效" not in text and "停止更新" not in text
    assert text.endswith("| [BBC](lists/bbc.md) | 0 | — |\n")
    only_stale = render_index("镜像", [ListedSource("voa", "美国之音", 1, None, state="stale")]).decode()
    assert "**停止更新**" in only_stale and "**已失效**" not in only_stale


def test_a_source_name_with_a_pipe_or_brackets_stays_one_cell_and_one_link():
    from markdown_it import MarkdownIt

    names = ["新闻|速递", "[快讯] 世界", "反斜杠\\|竖线", "全角｜竖线"]
    sources = [ListedSource(f"s{n}", name, n, None) for n, name in enumerate(names)]
    tokens = MarkdownIt("commonmark").enable("table").parse(render_index("镜像", sources).decode())
    rows, row = [], None
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token)
        elif token.type == "tr_close":
            rows.append(row)
            row = None
    body = rows[1:]  # after the header row
    assert [len(r) for r in body] == [3] * len(names)
    for (first, count, _), name, n in zip(body, names, range(len(names))):
        kinds = [child.type for child in first.children]
        assert kinds == ["link_open", "text", "link_close"], (name, kinds)
        assert first.children[1].content == name
        assert first.children[0].attrs["href"] == f"lists/s{n}.md"
        assert count.content == str(n)
