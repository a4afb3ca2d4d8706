"""What a reader gets from each bundled outlet whose full text comes from the article page:
a feed (summary only) and an article page shaped like the outlet's public markup (the
selectors named in content/siterules.toml), both served from loopback, run through the
bundled entry with the default image proxy. The fixtures are built here from those markup
patterns, not copied from the outlets' pages."""

from __future__ import annotations

import json
import tomllib

from pytest_httpserver import HTTPServer

from newsmirror.config import DEFAULT_IMAGE_PROXY
from newsmirror.content.siterules import DEFAULT_RULES
from tests.helpers import Mirror
from tests.jobs.test_outlets import bundled

WESERV = "https://images.weserv.nl?url="
LONG = "".join(f"<p>第{n}段：这是一段足够长的测试正文，用来让订阅源里的正文被当作全文，而不是摘要。</p>"
               for n in range(1, 16))


def feed(base: str, path: str, title: str, description: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>测试频道</title><link>{base}/</link>
<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>
<pubDate>Tue, 01 Dec 2026 08:00:00 GMT</pubDate>
<description><![CDATA[{description}]]></description></item>
</channel></rss>""".encode()


def page(head: str, body: str) -> bytes:
    return (f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{head}</title>"
            f"</head><body><header><nav><a href=\"/\">首页</a></nav></header>{body}"
            "<footer class=\"site-footer\"><p>版权所有 测试</p></footer></body></html>").encode()


RULE_OF = {"nytimes": "nytimes-cn", "dw": "dw-zh", "rfi": "rfi-cn", "ftchinese": "ftchinese",
           "bbc": "bbc-zhongwen", "cna": "cna", "udn": "udn", "ltn": "ltn", "rfa": "rfa-mandarin",
           "initium": "initium"}


def local_rule(mirror: Mirror, slug: str) -> str:
    """A site-rules file holding the bundled rule of `slug` as it ships, for the loopback
    host the fixtures are served from: the shipped selectors are what is tested."""
    name = RULE_OF[slug]
    table = {**tomllib.loads(DEFAULT_RULES.read_text("utf-8"))[name], "hosts": ["localhost"]}
    lines = [f"[{name}]"] + [f"{key} = {json.dumps(value, ensure_ascii=False)}"
                             for key, value in table.items()]
    (mirror.tmp / "rules.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "rules.toml"


def run_outlet(mirror: Mirror, httpserver: HTTPServer, slug: str, path: str, html: bytes | None,
               description: str = "<p>一句摘要。</p>", *, query: dict | None = None,
               status: int = 200, **entry):
    """One run of bundled `slug` (with `entry`'s keys over its own) over a feed of one item
    whose page is `html` at `path`: the report and the article's Markdown body (line 5 of
    its file)."""
    base = httpserver.url_for("").rstrip("/")
    assert base.startswith("http://localhost:")
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed(base, path, "测试标题", description), content_type="application/rss+xml")
    if html is not None:
        httpserver.expect_request(path, query_string=query).respond_with_data(
            html, status=status, content_type="text/html; charset=utf-8")
    report = mirror.run([{**bundled(slug, f"{base}/feed.xml"), **entry}],
                        site_rules=local_rule(mirror, slug))
    [file] = mirror.articles()
    lines = file.read_text(encoding="utf-8").split("\n")
    assert lines[3] == "" and lines[2] == "------"
    return report, lines[4]


def in_order(body: str, *parts: str) -> bool:
    at = [body.find(part) for part in parts]
    return all(i >= 0 for i in at) and at == sorted(at)


def assert_page(report, body: str, *, kept: tuple[str, ...], gone: tuple[str, ...]) -> None:
    """One new article from the page, its body holding `kept` in that order and none of
    `gone`."""
    assert report.new == 1 and not report.page_failures
    assert in_order(body, *kept)
    for part in gone:
        assert part not in body, part


def test_the_default_proxy_is_the_one_init_writes(mirror):
    assert mirror.config([{"slug": "a", "name": "a", "url": "http://127.0.0.1:1/f"}]).image_proxy \
        == DEFAULT_IMAGE_PROXY


NYT_PAGE = page("测试峰会闭幕", """
<main><article class="article-area"><div class="article-header"><header><h1>测试峰会闭幕</h1></header>
<time datetime="2026-12-01 16:00:00">2026年12月1日</time></div>
<div class="article-tools article-share"><a href="#">分享</a></div>
<figure class="article-span-photo"><img src="https://static01.nyt.com/images/2026/12/01/test-summit.jpg" alt="峰会会场">
<figcaption>峰会会场外的测试人群。<span class="credit">Test Photographer for The New York Times</span></figcaption></figure>
<section class="article-body">
<div class="article-paragraph">为期两天的测试峰会周二闭幕，与会各方同意明年继续对话。</div>
<div class="big_ad"><p>广告</p></div>
<div class="article-paragraph">分析人士说，这次峰会的成果有限，但对话本身就是进展。</div>
<div class="article-body-aside"><p>相关报道：另一篇文章</p></div>
</section>
<footer class="author-info"><p>测试记者对本文有报道贡献。</p><p>翻译：测试译者</p></footer>
</article><div class="related-articles"><a href="/x/">更多文章</a></div></main>""")


def test_nytimes_page_gives_lead_photo_credit_and_text(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "nytimes", "/world/20261201/test-summit/", NYT_PAGE)
    assert report.new == 1 and not report.page_failures
    assert in_order(body, "<figure>", f'{WESERV}static01.nyt.com/images/2026/12/01/test-summit.jpg',
                    "峰会会场外的测试人群。", "Test Photographer for The New York Times", "</figure>",
                    "为期两天的测试峰会周二闭幕", "分析人士说", "测试记者对本文有报道贡献。", "翻译：测试译者")
    assert 'data-fallback-src="https://wsrv.nl/?url=https%3A%2F%2Fstatic01.nyt.com' in body
    for gone in ("广告", "相关报道", "更多文章", "分享", "首页", "版权所有"):
        assert gone not in body


DW_PAGE = page("测试州加快能源转型", """
<main><article><h1>测试州加快能源转型</h1>
<p class="intro">测试州政府宣布，将在2030年前关闭最后一座燃煤电厂。</p>
<div class="content-area">
<figure class="placeholder-image"><img src="https://static.dw.com/image/70000002_${formatId}.jpg" alt="风电场">
<figcaption>测试州的一座风电场</figcaption></figure>
<p>州长在周二的新闻发布会上说，关闭电厂的时间表已经商定。</p>
<div class="advertisement">广告</div>
<p>环保团体对这一决定表示欢迎。</p>
<div class="social-share"><a href="#">分享</a></div>
</div></article>
<section class="related-content"><a href="/zh/other/a-1">相关内容</a></section></main>""")


def test_dw_page_gives_lead_paragraph_and_content_area(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "dw", "/zh/test-energy/a-70000001", DW_PAGE)
    assert_page(report, body,
                kept=("<p>测试州政府宣布，将在2030年前关闭最后一座燃煤电厂。</p>",
                      f"{WESERV}static.dw.com/image/70000002_906.jpg", "测试州的一座风电场",
                      "州长在周二的新闻发布会上说", "环保团体对这一决定表示欢迎。"),
                gone=("广告", "分享", "相关内容", "formatId", "%7B"))


RFI_PAGE = page("测试选举结果揭晓", """
<main id="main-content"><article><h1 class="a-page-title">测试选举结果揭晓</h1>
<div class="t-content__chapo">测试国周日举行大选，执政党以微弱优势胜出。</div>
<div class="t-content__main-media"><figure><img src="https://s.rfi.fr/media/display/test-election.jpg" alt="计票">
<figcaption>计票现场。© 测试图片社</figcaption></figure></div>
<div class="m-em-share"><a href="#">分享</a></div>
<div class="t-content__body"><p>选举委员会周一公布的结果显示，投票率为百分之六十八。</p>
<div class="o-self-promo"><p>下载法广应用程序</p></div>
<p>反对党表示将在法庭上挑战部分选区的结果。</p></div>
<div class="m-tags-list"><a href="/cn/tag">标签</a></div></article></main>""")


def test_rfi_page_keeps_lead_and_lead_image(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "rfi", "/cn/20261201-test-election", RFI_PAGE)
    assert_page(report, body,
                kept=("测试国周日举行大选，执政党以微弱优势胜出。",
                      f"{WESERV}s.rfi.fr/media/display/test-election.jpg", "计票现场。© 测试图片社",
                      "选举委员会周一公布的结果显示", "反对党表示将在法庭上挑战"),
                gone=("分享", "下载法广应用程序", "标签"))


def test_rfi_full_feed_body_is_used_without_fetching_the_page(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "rfi", "/cn/20261201-full", None, LONG)
    assert report.new == 1 and not report.page_failures
    assert body == LONG
    assert [r.path for r, _ in httpserver.log] == ["/feed.xml"]


def test_rfi_refused_page_is_said_plainly_and_the_feed_text_kept(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "rfi", "/cn/20261201-refused", b"Forbidden",
                              "<p>一句摘要。</p>", status=403)
    assert report.new == 1 and body == "<p>一句摘要。</p>"
    [(url, reason)] = report.page_failures.items()
    assert url.endswith("/cn/20261201-refused")
    assert reason.startswith("page refused (403): HTTP 403 Forbidden") and "feed's own text is kept" in reason


FT_PAGE = page("一篇很长的测试报道", """
<div class="story-container"><h1 class="story-headline">一篇很长的测试报道</h1>
<div class="story-body"><p>第一页的第一段。</p><p>第二页才有的结论段。</p>
<div class="story-share">分享</div></div></div>""")


def test_ftchinese_long_story_is_fetched_whole(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "ftchinese", "/story/001100001", FT_PAGE,
                              query={"full": "y"})
    assert report.new == 1 and not report.page_failures
    assert in_order(body, "第一页的第一段。", "第二页才有的结论段。") and "分享" not in body
    [file] = mirror.articles()
    assert f"({httpserver.url_for('/story/001100001')})" in file.read_text(encoding="utf-8")
    assert [r.query_string for r in (r for r, _ in httpserver.log) if r.path.startswith("/story")] \
        == [b"full=y"]


BBC_PAGE = page("测试城市发生洪水", """
<main role="main"><article><h1 id="content">测试城市发生洪水</h1>
<div data-testid="byline"><span>作者，测试记者</span><span data-testid="byline-role">BBC中文记者</span>
<time datetime="2026-12-01">15 分钟前</time></div>
<figure><img src="https://ichef.bbci.co.uk/ace/ws/640/cpsprodpb/test-flood.jpg" alt="洪水">
<p role="text"><span class="bbc-xyz visually-hidden">图像来源，</span>Getty Images</p>
<figcaption><span class="bbc-xyz visually-hidden">图像加注文字，</span>洪水淹没了测试城市的街道。</figcaption></figure>
<p>测试城市周二遭遇暴雨，多个街区被洪水淹没。</p>
<div data-e2e="advertisement"><p>广告</p></div>
<p>当局说，已经疏散了数千名居民。<button>播放</button></p>
<p>更新于 3 小时前</p>
<section role="region" aria-labelledby="related-content-heading" data-e2e="related-content-heading">
<h2 id="related-content-heading">相关内容</h2><ul><li><a href="/zhongwen/articles/c1/simp">另一篇报道</a>
<time>2 小时前</time></li></ul></section>
</article>
<section aria-labelledby="top-stories-heading" data-e2e="top-stories-heading"><h2>头条新闻</h2></section>
<section aria-labelledby="features-analysis-heading" data-e2e="features-analysis-heading"><h2>特别推荐</h2>
</section><section data-e2e="most-read"><h2>最多阅读</h2></section></main>""")


def test_bbc_page_without_byline_relative_times_and_repeated_captions(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "bbc", "/zhongwen/articles/c7000000001o/simp",
                              BBC_PAGE)
    assert_page(report, body,
                kept=(f"{WESERV}ichef.bbci.co.uk/ace/ws/640/cpsprodpb/test-flood.jpg",
                      "洪水淹没了测试城市的街道。", "测试城市周二遭遇暴雨", "当局说，已经疏散了数千名居民。"),
                gone=("<h1>", "作者", "BBC中文记者", "15 分钟前", "小时前", "图像加注文字", "图像来源",
                      "广告", "播放", "相关内容", "另一篇报道", "头条新闻", "特别推荐", "最多阅读"))
    assert body.count("洪水淹没了测试城市的街道。") == 1


CNA_PAGE = page("立法院三讀測試法案", """
<div class="centralContent"><h1><span>立法院三讀測試法案</span></h1>
<div class="shareBar">分享</div>
<div class="fullPic"><figure><img src="https://imgcdn.cna.com.tw/news/test-bill.jpg" alt="立法院">
<figcaption>立法院會今天三讀通過測試法案。（中央社）</figcaption></figure></div>
<div class="paragraph"><p>（中央社記者測試台北1日電）立法院會今天三讀通過測試法案。</p>
<p class="gmailNews">中央社新聞電子報 訂閱</p>
<p>法案規定，相關機關應在半年內訂定施行細則。</p>
<p class="figcaption-promo">※你可能還想看：另一則新聞</p>
<div class="SubscriptionInner"><p>訂閱中央社YouTube頻道</p></div>
<p>（譯者：測試甲／核稿：測試乙）1151201</p><p>（編輯：測試）1151201</p></div>
<div class="moreArticle"><a href="/news/1">延伸閱讀</a></div></div>""")

UDN_PAGE = page("測試縣長宣布參選", """
<main><section class="article-content__wrapper"><h1 class="article-content__title">測試縣長宣布參選</h1>
<section class="authors"><time class="article-content__time">2026-12-01 10:00</time>
<span class="article-content__author"><a href="/author/1">記者測試</a>／即時報導</span></section>
<figure class="article-content__cover"><img src="https://pgw.udn.com.tw/gw/photo.php?u=test.jpg" alt="縣長">
<figcaption>測試縣長今天宣布參選。記者測試／攝影</figcaption></figure>
<section class="article-content__editor">
<p>測試縣長今天上午召開記者會，宣布參選連任。</p><div class="inline-ads">廣告</div>
<div class="udn-ads-block">贊助廣告</div>
<p>他說，未來四年將以交通建設為施政重點。</p>
<blockquote><p>另一則相關報導的標題 <a href="/news/story/2">...more</a></p></blockquote>
<p>（延伸閱讀：另一篇新聞）</p><p>延伸閱讀：另一篇新聞</p></section></section>
<div class="story-list__news"><a href="/news/story/1">更多新聞</a></div></main>""")

LTN_PAGE = page("測試颱風逼近", """
<div class="whitecon articlebody" itemprop="articleBody"><h1>測試颱風逼近</h1>
<div class="text boxTitle boxText" data-desc="內容頁"><span class="time"> 2026/12/01 10:00</span>
<div class="photo boxTitle"><img class="lazy_imgs_ltn" src="https://img.ltn.com.tw/assets/lazy.gif"
 data-src="https://img.ltn.com.tw/Upload/news/600/2026/12/01/test.jpg" alt="颱風">
<span class="ph_d">測試颱風的衛星雲圖。（取自測試氣象署）</span></div>
<p>〔記者測試／台北報導〕測試颱風持續逼近，氣象署預計今晚發布海上警報。</p>
<div class="before_ir">推薦閱讀</div><div id="ad-IR1">廣告</div>
<p class="appE1121">不用抽 不用搶 現在用APP看新聞 保證天天中獎</p>
<p>氣象專家提醒民眾做好防颱準備。</p><div class="after_ir">點我看更多</div>
<p>首次上稿 2026/12/01 08:00</p><p>更新時間 2026/12/01 10:00</p></div>
<div class="suggest"><a href="/news/1">相關新聞</a></div></div>""")


def test_cna_page_text_and_lead_photo(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "cna", "/news/aipl/202612010001.aspx", CNA_PAGE)
    assert_page(report, body,
                kept=(f"{WESERV}imgcdn.cna.com.tw/news/test-bill.jpg", "三讀通過測試法案。（中央社）",
                      "（中央社記者測試台北1日電）", "相關機關應在半年內訂定施行細則。"),
                gone=("編輯", "譯者", "1151201", "延伸閱讀", "分享", "電子報", "你可能還想看", "YouTube"))


def test_udn_page_text_and_cover(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "udn", "/news/story/6656/8400001", UDN_PAGE)
    assert_page(report, body,
                kept=(f"{WESERV}pgw.udn.com.tw/gw/photo.php?u=test.jpg", "記者測試／攝影",
                      "宣布參選連任。", "以交通建設為施政重點。"),
                gone=("廣告", "延伸閱讀", "更多新聞", "...more", "另一則相關報導", "2026-12-01 10:00",
                      "即時報導"))


def test_ltn_page_text_and_photo(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "ltn", "/news/life/breakingnews/5000001", LTN_PAGE)
    assert_page(report, body,
                kept=(f"{WESERV}img.ltn.com.tw/Upload/news/600/2026/12/01/test.jpg",
                      "測試颱風的衛星雲圖。", "氣象署預計今晚發布海上警報。", "做好防颱準備。"),
                gone=("不用抽", "相關新聞", "lazy.gif", "推薦閱讀", "廣告", "點我看更多", "首次上稿",
                      "更新時間", "2026/12/01 10:00", "2026/12/01 08:00"))


RFA_PAGE = page("测试城市举行年度灯会", """
<div id="fusion-app"><header class="b-header"><nav><a href="/mandarin/">普通话</a></nav></header>
<main><h1 class="b-headline">测试城市举行年度灯会</h1>
<div class="b-byline">作者：测试记者 2026.12.01</div>
<div class="c-share"><a href="#">分享</a></div>
<div class="b-lead-art"><figure><img src="https://www.rfa.org/resizer/v2/TESTLEAD.jpg?auth=abc&amp;width=1200"
 alt="灯会"><figcaption>灯会首日的人潮。（测试图片社）</figcaption></figure></div>
<article class="b-article-body"><p class="c-paragraph">测试城市的年度灯会周末开幕，首日游客人数创下新高。</p>
<div class="advertisement">广告</div>
<p class="c-paragraph">一位市民对本台说：“每年都来，今年的灯最漂亮。”</p></article>
<div class="c-related"><h2>相关新闻</h2><a href="/mandarin/other">另一篇报道</a></div></main></div>""")


def test_rfa_arc_page_gives_lead_art_and_article_body(mirror, httpserver: HTTPServer):
    # RFA's Arc feed carries the whole story, so the bundled entry reads no page; a config
    # that asks for pages (full_text = "auto") or a page archived on request gets this.
    report, body = run_outlet(mirror, httpserver, "rfa", "/mandarin/test-lantern-fair", RFA_PAGE,
                              full_text="auto")
    assert_page(report, body,
                kept=(f"{WESERV}www.rfa.org/resizer/v2/TESTLEAD.jpg", "灯会首日的人潮。",
                      "测试城市的年度灯会周末开幕", "今年的灯最漂亮。"),
                gone=("普通话", "测试城市举行年度灯会", "作者", "分享", "广告", "相关新闻", "另一篇报道"))


INITIUM_PAGE = page("測試城市的夜市經濟", """
<main class="site-main"><article class="article post tag-report">
<header class="article-header gh-canvas"><section class="article-tag"><a href="/tag/report/">深度</a></section>
<h1 class="article-title">測試城市的夜市經濟</h1>
<div class="article-byline"><span class="author-name">端傳媒記者 測試</span>
<time class="byline-meta-date" datetime="2026-12-01">2026-12-01</time></div>
<figure class="article-image"><img src="https://theinitium.com/content/images/2026/12/night-market.jpg"
 alt="夜市"><figcaption>測試城市的夜市。攝：測試</figcaption></figure></header>
<section class="gh-content gh-canvas">
<p>入夜之後，測試城市的街道變成了另一個樣子。</p>
<p>攤販們說，這幾年的生意起起落落。</p>
<aside class="gh-post-upgrade-cta"><h2>本文為付費會員專享</h2><a href="#/portal/signup">訂閱</a></aside>
</section></article>
<aside class="read-more-wrap"><article class="post-card"><a href="/article/other/">延伸閱讀</a></article></aside>
</main>""")


def test_initium_ghost_page_gives_feature_image_and_text(mirror, httpserver: HTTPServer):
    report, body = run_outlet(mirror, httpserver, "initium", "/article/20261201-night-market/",
                              INITIUM_PAGE)
    assert_page(report, body,
                kept=(f"{WESERV}theinitium.com/content/images/2026/12/night-market.jpg",
                      "測試城市的夜市。攝：測試", "入夜之後", "生意起起落落。"),
                gone=("深度", "測試城市的夜市經濟", "端傳媒記者", "2026-12-01", "付費會員", "訂閱", "延伸閱讀"))


def test_page_query_is_checked_and_added_once(tmp_path):
    import pytest

    from newsmirror.content.siterules import SiteRulesError, load_rules

    bad = tmp_path / "bad.toml"
    bad.write_text('[ft]\nhosts = ["ftchinese.com"]\nselector = "p"\npage_query = "?full=y"\n',
                   encoding="utf-8")
    with pytest.raises(SiteRulesError, match=r"bad.toml: \[ft\]\.page_query: '\?full=y' must be"):
        load_rules(bad)
    [rule] = [r for r in load_rules() if r.name == "ftchinese"]
    assert rule.page_url("https://www.ftchinese.com/story/1?full=y") == \
        "https://www.ftchinese.com/story/1?full=y"
    assert rule.page_url("https://www.ftchinese.com/story/1?a=1#c") == \
        "https://www.ftchinese.com/story/1?a=1&full=y#c"


GHOST_FIGURE = ('<figure class="kg-card kg-image-card"><img src="https://theinitium.com/content/images/'
                '2026/12/lead.jpg" class="kg-image" alt=""></figure>')


def test_initium_whole_ghost_feed_body_is_kept_without_the_page(mirror, httpserver: HTTPServer):
    # A free story's Ghost feed item carries the whole text: it is archived as the feed gave
    # it, lead image kept, with the empty paragraphs Ghost's editor leaves dropped.
    report, body = run_outlet(mirror, httpserver, "initium", "/article/20261201-free/", None,
                              GHOST_FIGURE + "<p> </p>" + LONG)
    assert report.new == 1 and not report.page_failures
    assert body.startswith(f'<figure class="kg-card kg-image-card"><img src="{WESERV}theinitium.com')
    assert body.endswith(LONG) and "<p> </p>" not in body
    assert [r.path for r, _ in httpserver.log] == ["/feed.xml"]
