"""sanitize_html keeps ordinary article markup; strip_tracking and absolutize."""

from __future__ import annotations

import lxml.html
import pytest

from newsmirror.content.clean import absolutize, sanitize_html, strip_tracking

BASE = "https://www.voachinese.com/a/story/123.html"


def _tree(html: str):
    return lxml.html.fragment_fromstring(html, create_parent="div")


# -- normal markup survives ------------------------------------------------------------

@pytest.mark.parametrize(
    "markup",
    [
        "<p>段落<br>第二行</p>",
        "<h2>小标题</h2><h3>三级</h3>",
        "<blockquote><p>引文</p></blockquote>",
        "<ul><li>一</li><li>二</li></ul><ol><li>三</li></ol>",
        "<p><em>强调</em><strong>加粗</strong><i>斜</i><b>粗</b><small>小</small>"
        "H<sub>2</sub>O x<sup>2</sup></p>",
        "<table><thead><tr><th>年</th></tr></thead><tbody><tr><td>2023</td></tr></tbody></table>",
        "<pre><code>x = 1</code></pre><hr>",
        "<div><span>包装</span></div>",
        "<figure><img src=\"https://gdb.voanews.com/a.jpg\" alt=\"图\"><figcaption>说明</figcaption></figure>",
    ],
)
def test_article_markup_is_kept(markup: str) -> None:
    assert sanitize_html(markup) == markup


def test_links_keep_href_and_get_rel() -> None:
    out = sanitize_html('<a href="https://www.rfi.fr/cn/">法广</a>')
    assert out == '<a href="https://www.rfi.fr/cn/" rel="noopener noreferrer">法广</a>'


def test_mailto_links_are_kept() -> None:
    link = _tree(sanitize_html('<a href="mailto:news@example.com">信</a>')).find("a")
    assert link.get("href") == "mailto:news@example.com"


def test_img_attributes_are_kept() -> None:
    html = ('<img src="https://x.com/a.jpg" alt="说明" width="900" height="600" '
            'srcset="https://x.com/a.jpg 1x, https://x.com/b.jpg 2x">')
    img = _tree(sanitize_html(html)).find("img")
    assert dict(img.attrib) == {
        "src": "https://x.com/a.jpg",
        "alt": "说明",
        "width": "900",
        "height": "600",
        "srcset": "https://x.com/a.jpg 1x, https://x.com/b.jpg 2x",
    }


def test_picture_and_video_are_kept() -> None:
    html = ('<picture><source srcset="https://x.com/a.webp" type="image/webp">'
            '<img src="https://x.com/a.jpg"></picture>'
            '<video poster="https://x.com/p.jpg" controls><source src="https://x.com/v.mp4" type="video/mp4"></video>')
    tree = _tree(sanitize_html(html))
    assert tree.find("picture/source").get("srcset") == "https://x.com/a.webp"
    assert tree.find("video").get("poster") == "https://x.com/p.jpg"
    assert tree.find("video/source").get("src") == "https://x.com/v.mp4"


def test_data_image_is_allowed_in_img_src() -> None:
    html = '<img src="data:image/png;base64,iVBORw0KGgo=">'
    assert sanitize_html(html) == html


def test_harmless_style_is_kept_dangerous_style_is_dropped() -> None:
    assert sanitize_html('<small style="color: #999;">注</small>') == '<small style="color:#999">注</small>'
    assert sanitize_html('<p style="background:url(x.png)">p</p>') == "<p>p</p>"


def test_script_content_and_comments_are_gone_text_kept() -> None:
    out = sanitize_html("<p>前<script>alert(1)</script>后<!-- 注释 --></p>")
    assert out == "<p>前后</p>"


def test_noscript_images_are_unwrapped() -> None:
    out = sanitize_html('<noscript><img src="https://x.com/real.jpg"></noscript>')
    assert out == '<img src="https://x.com/real.jpg">'


def test_forms_go_but_their_text_stays() -> None:
    out = sanitize_html('<form action="/s"><label>搜索</label><input name="q"><button>去</button></form>')
    assert out == "搜索"


# -- iframes --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "src",
    [
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "https://player.vimeo.com/video/76979871",
    ],
)
def test_allow_listed_video_iframes_are_kept(src: str) -> None:
    out = sanitize_html(f'<iframe src="{src}" width="560" height="315" allowfullscreen></iframe>')
    iframe = _tree(out).find("iframe")
    assert iframe is not None and iframe.get("src") == src
    assert iframe.get("width") == "560"


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/embed/x",
        "http://www.youtube.com/embed/x",  # not https
        "https://www.youtube.com/watch?v=x",  # not an embed path
        "https://youtube.com.evil.example/embed/x",
        "https://www.youtube.com:8443/embed/x",
        "javascript:alert(1)",
    ],
)
def test_other_iframes_are_removed_entirely(src: str) -> None:
    assert sanitize_html(f'<p>a</p><iframe src="{src}">fallback</iframe><p>b</p>') == "<p>a</p><p>b</p>"


def test_scheme_relative_iframe_is_https() -> None:
    out = sanitize_html('<iframe src="//www.youtube.com/embed/x"></iframe>')
    assert out == '<iframe src="https://www.youtube.com/embed/x"></iframe>'


def test_iframe_hosts_can_be_configured() -> None:
    html = '<iframe src="https://www.voachinese.com/embed/player/0/123.html"></iframe>'
    assert sanitize_html(html) == ""
    kept = sanitize_html(html, iframe_hosts=["voachinese.com/embed/"])
    assert kept == html


def test_iframe_fallback_content_is_dropped() -> None:
    out = sanitize_html('<iframe src="https://player.vimeo.com/video/1"><b>old browser</b></iframe>')
    assert out == '<iframe src="https://player.vimeo.com/video/1"></iframe>'


# -- tracking -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "img",
    [
        '<img src="https://x.com/p.gif" width="1" height="1">',
        '<img src="https://x.com/p.gif" width="0" height="0">',
        "<img src=https://x.com/p.gif width=1px height=1px>",
        '<img src="https://pixel.wp.com/g.gif?blog=1">',
        '<img src="https://www.google-analytics.com/collect?v=1">',
        '<img src="https://feeds.feedburner.com/~r/voa/~4/abc">',
        '<img src="https://sb.scorecardresearch.com/p?c1=2">',
    ],
)
def test_tracking_pixels_are_removed(img: str) -> None:
    assert sanitize_html(f"<p>文{img}字</p>") == "<p>文字</p>"


def test_small_but_real_images_stay() -> None:
    html = '<img src="https://x.com/icon.png" width="16" height="1">'
    assert sanitize_html(html) == html


def test_tracking_params_are_removed_from_links_and_images() -> None:
    html = ('<a href="https://x.com/a?id=7&amp;utm_source=rss&amp;utm_medium=feed&amp;fbclid=abc#top">l</a>'
            '<img src="https://x.com/i.jpg?gclid=1&amp;w=900" srcset="https://x.com/i.jpg?_ga=2 2x">')
    tree = _tree(sanitize_html(html))
    assert tree.find("a").get("href") == "https://x.com/a?id=7#top"
    assert tree.find("img").get("src") == "https://x.com/i.jpg?w=900"
    assert tree.find("img").get("srcset") == "https://x.com/i.jpg 2x"


# -- relative addresses -----------------------------------------------------------------

def test_relative_urls_become_absolute() -> None:
    html = ('<a href="/a/other.html">l</a><img src="../img/p.jpg" srcset="p2.jpg 2x">'
            '<video poster="//cdn.example/p.jpg"></video><a href="#note">n</a>')
    tree = _tree(sanitize_html(html, base_url=BASE))
    links = tree.findall("a")
    assert links[0].get("href") == "https://www.voachinese.com/a/other.html"
    assert tree.find("img").get("src") == "https://www.voachinese.com/a/img/p.jpg"
    assert tree.find("img").get("srcset") == "https://www.voachinese.com/a/story/p2.jpg 2x"
    assert tree.find("video").get("poster") == "https://cdn.example/p.jpg"
    assert links[1].get("href") == "#note"


def test_relative_urls_stay_relative_without_base() -> None:
    assert sanitize_html('<img src="/p.jpg">') == '<img src="/p.jpg">'


# -- helpers --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/a?utm_source=rss", "https://x.com/a"),
        ("https://x.com/a?id=1&utm_campaign=c&UTM_Medium=m", "https://x.com/a?id=1"),
        ("https://x.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4&mc_cid=5&mc_eid=6&yclid=7&_ga=8&spm=9", "https://x.com/a"),
        ("https://x.com/a?b=%E4%B8%AD&fbclid=1#h?utm_x=1", "https://x.com/a?b=%E4%B8%AD#h?utm_x=1"),
        ("https://x.com/a?utm_source=rss#frag", "https://x.com/a#frag"),
        ("/rel/p?x=1&utm_term=t", "/rel/p?x=1"),
        ("https://x.com/a?keep=1", "https://x.com/a?keep=1"),
        ("https://x.com/a?utm=1&utmost=2", "https://x.com/a?utm=1&utmost=2"),
        ("mailto:a@x.com?utm_source=1", "mailto:a@x.com?utm_source=1"),
        ("https://x.com/a", "https://x.com/a"),
    ],
)
def test_strip_tracking(url: str, expected: str) -> None:
    assert strip_tracking(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("p.jpg", BASE, "https://www.voachinese.com/a/story/p.jpg"),
        ("/p.jpg", BASE, "https://www.voachinese.com/p.jpg"),
        ("../p.jpg", BASE, "https://www.voachinese.com/a/p.jpg"),
        ("//cdn.x.com/p.jpg", BASE, "https://cdn.x.com/p.jpg"),
        ("?page=2", BASE, "https://www.voachinese.com/a/story/123.html?page=2"),
        ("https://other.com/p.jpg", BASE, "https://other.com/p.jpg"),
        ("HTTPS://Other.com/P.jpg", BASE, "HTTPS://Other.com/P.jpg"),
        ("data:image/png;base64,AA", BASE, "data:image/png;base64,AA"),
        ("#top", BASE, "#top"),
        ("", BASE, ""),
        ("p.jpg", None, "p.jpg"),
        ("p.jpg", "", "p.jpg"),
    ],
)
def test_absolutize(url: str, base: str | None, expected: str) -> None:
    assert absolutize(url, base) == expected
