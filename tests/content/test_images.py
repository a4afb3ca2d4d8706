"""Image proxy rewriting: placeholders, policy, and byte-faithful in-place edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.archive.article import parse_article
from newsmirror.content.images import ImagePolicy, proxy_urls, rewrite_images

WESERV = "https://images.weserv.nl?url=${host}${pathname}${search}"
WSRV = "https://wsrv.nl/?url=${href_ue}"
POLICY = ImagePolicy(templates=(WESERV,))
BASE = "https://www.voachinese.com/a/story/1.html"


def proxy_url(url: str, policy: ImagePolicy) -> str:
    """`url` through the first template, or `url` unchanged."""
    return next(iter(proxy_urls(url, policy)), url)


def _example_body(format_dir: Path) -> str:
    data = (format_dir / "example-article.md").read_bytes()
    return parse_article(data, name="example-article.md").body


# -- placeholders ---------------------------------------------------------------------

URL = "https://user:pw@Img.Example.com:8443/a b/图.jpg?w=900&h=1#frag"


@pytest.mark.parametrize(
    ("placeholder", "expected"),
    [
        ("href", "https://user:pw@img.example.com:8443/a%20b/%E5%9B%BE.jpg?w=900&h=1#frag"),
        ("protocol", "https:"),
        ("host", "img.example.com:8443"),
        ("hostname", "img.example.com"),
        ("port", "8443"),
        ("pathname", "/a%20b/%E5%9B%BE.jpg"),
        ("search", "?w=900&h=1"),
        ("hash", "#frag"),
        ("origin", "https://img.example.com:8443"),
        ("username", "user"),
        ("password", "pw"),
        ("href_ue", "https%3A%2F%2Fuser%3Apw%40img.example.com%3A8443%2Fa%2520b%2F%25E5%259B%25BE.jpg%3Fw%3D900%26h%3D1%23frag"),
        ("pathname_ue", "%2Fa%2520b%2F%25E5%259B%25BE.jpg"),
    ],
)
def test_each_placeholder(placeholder: str, expected: str) -> None:
    policy = ImagePolicy(templates=("https://proxy.example/?u=${" + placeholder + "}",))
    assert proxy_url(URL, policy) == "https://proxy.example/?u=" + expected


def test_default_port_and_case_are_normalised_like_a_browser() -> None:
    policy = ImagePolicy(templates=("https://p.example/${host}|${port}|${protocol}",))
    assert proxy_url("HTTP://CDN.Example.com:80/x.jpg", policy) == "https://p.example/cdn.example.com||http:"


def test_encode_uri_component_keeps_its_safe_characters() -> None:
    policy = ImagePolicy(templates=("https://p.example/?u=${pathname_ue}",))
    assert proxy_url("https://x.com/a-_.!~*'()b.jpg", policy) == "https://p.example/?u=%2Fa-_.!~*'()b.jpg"


def test_unknown_placeholders_are_left_as_written() -> None:
    policy = ImagePolicy(templates=("https://p.example/${nope}/${host}${pathname}",))
    assert proxy_url("https://x.com/a.jpg", policy) == "https://p.example/${nope}/x.com/a.jpg"


def test_weserv_and_wsrv_templates() -> None:
    url = "https://gdb.voanews.com/a.jpg?w=900"
    assert proxy_url(url, POLICY) == "https://images.weserv.nl?url=gdb.voanews.com/a.jpg?w=900"
    wsrv = ImagePolicy(templates=(WSRV,))
    assert proxy_url(url, wsrv) == "https://wsrv.nl/?url=https%3A%2F%2Fgdb.voanews.com%2Fa.jpg%3Fw%3D900"


# -- what is not proxied ---------------------------------------------------------------

@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "/relative/a.jpg",
        "a.jpg",
        "ftp://x.com/a.jpg",
        "javascript:alert(1)",
        "",
        "https://images.weserv.nl?url=x.com/a.jpg",
        "https://wsrv.nl/?url=https%3A%2F%2Fx.com%2Fa.jpg",
        "https://weserv.nl/?url=x.com/a.jpg",
    ],
)
def test_unchanged_addresses(url: str) -> None:
    assert proxy_url(url, POLICY) == url
    assert proxy_urls(url, POLICY) == ()


def test_excluded_hosts_and_their_subdomains() -> None:
    policy = ImagePolicy(templates=(WSRV,), exclude_hosts=("githubusercontent.com",))
    for url in ("https://githubusercontent.com/a.png", "https://raw.githubusercontent.com/a.png"):
        assert proxy_url(url, policy) == url
    assert proxy_url("https://notgithubusercontent.com/a.png", policy) != "https://notgithubusercontent.com/a.png"


def test_template_hosts_count_as_known_proxies() -> None:
    policy = ImagePolicy(templates=("https://img.proxy.example/?u=${href_ue}",), known_proxies=())
    assert policy.proxy_hosts == ("img.proxy.example",)
    already = "https://img.proxy.example/?u=https%3A%2F%2Fx.com%2Fa.jpg"
    assert proxy_url(already, policy) == already


def test_empty_policy_changes_nothing() -> None:
    assert proxy_url("https://x.com/a.jpg", ImagePolicy()) == "https://x.com/a.jpg"
    html = '<img src="https://x.com/a.jpg"><picture><source srcset="a.jpg 2x"></picture>'
    assert rewrite_images(html, ImagePolicy(), base_url=BASE) is html


# -- fallbacks ------------------------------------------------------------------------

def test_fallback_templates_are_recorded_on_img() -> None:
    policy = ImagePolicy(templates=(WESERV, WSRV, "https://p3.example/${hostname}${pathname}"))
    assert proxy_urls("https://x.com/a.jpg", policy) == (
        "https://images.weserv.nl?url=x.com/a.jpg",
        "https://wsrv.nl/?url=https%3A%2F%2Fx.com%2Fa.jpg",
        "https://p3.example/x.com/a.jpg",
    )
    out = rewrite_images('<img src="https://x.com/a.jpg">', policy)
    assert out == (
        '<img src="https://images.weserv.nl?url=x.com/a.jpg" referrerpolicy="no-referrer" '
        'data-fallback-src="https://wsrv.nl/?url=https%3A%2F%2Fx.com%2Fa.jpg https://p3.example/x.com/a.jpg">'
    )


def test_addresses_through_any_template_host_are_not_proxied_again() -> None:
    policy = ImagePolicy(templates=(WSRV, "https://p3.example/${hostname}${pathname}"))
    for url in ("https://wsrv.nl/?url=x", "https://p3.example/x.com/a.jpg"):
        assert proxy_url(url, policy) == url


# -- rewrite_images -------------------------------------------------------------------

def test_img_src_is_rewritten_in_place() -> None:
    html = '<p>前</p><img class="a" src="https://x.com/a.jpg" alt="图"><p>后</p>'
    assert rewrite_images(html, POLICY) == (
        '<p>前</p><img class="a" src="https://images.weserv.nl?url=x.com/a.jpg" alt="图" '
        'referrerpolicy="no-referrer"><p>后</p>'
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<img src='https://x.com/a.jpg'>",
         "<img src='https://images.weserv.nl?url=x.com/a.jpg' referrerpolicy=\"no-referrer\">"),
        ("<img src=https://x.com/a.jpg>",
         '<img src="https://images.weserv.nl?url=x.com/a.jpg" referrerpolicy="no-referrer">'),
        ("<IMG SRC = \"https://x.com/a.jpg\" />",
         '<IMG SRC = "https://images.weserv.nl?url=x.com/a.jpg" referrerpolicy="no-referrer" />'),
        ('<img\nalt="x"\nsrc="https://x.com/a.jpg"/>',
         '<img\nalt="x"\nsrc="https://images.weserv.nl?url=x.com/a.jpg" referrerpolicy="no-referrer"/>'),
        ("<img src='https://x.com/a.jpg?q=&#39;x&#39;'>",
         "<img src='https://images.weserv.nl?url=x.com/a.jpg?q=%27x%27' referrerpolicy=\"no-referrer\">"),
    ],
)
def test_quoting_styles(html: str, expected: str) -> None:
    assert rewrite_images(html, POLICY) == expected


def test_entities_are_decoded_for_the_url_and_reencoded() -> None:
    html = '<img src="https://x.com/a.jpg?w=900&amp;h=1&copy=2">'
    out = rewrite_images(html, ImagePolicy(templates=(WSRV,)))
    assert out == ('<img src="https://wsrv.nl/?url=https%3A%2F%2Fx.com%2Fa.jpg%3Fw%3D900%26h%3D1%26copy%3D2" '
                   'referrerpolicy="no-referrer">')
    out = rewrite_images(html, POLICY)
    assert 'src="https://images.weserv.nl?url=x.com/a.jpg?w=900&amp;h=1&amp;copy=2"' in out


def test_existing_referrerpolicy_is_set_not_duplicated() -> None:
    html = '<img referrerpolicy="origin" src="https://x.com/a.jpg">'
    assert rewrite_images(html, POLICY) == (
        '<img referrerpolicy="no-referrer" src="https://images.weserv.nl?url=x.com/a.jpg">'
    )


def test_srcset_every_candidate() -> None:
    html = '<img srcset="https://x.com/a.jpg 1x,https://x.com/b,c.jpg 2x ,  https://images.weserv.nl?url=d.jpg 3x">'
    assert rewrite_images(html, POLICY) == (
        '<img srcset="https://images.weserv.nl?url=x.com/a.jpg 1x,https://images.weserv.nl?url=x.com/b,c.jpg 2x ,'
        '  https://images.weserv.nl?url=d.jpg 3x" referrerpolicy="no-referrer">'
    )


def test_picture_source_and_video_poster() -> None:
    html = ('<picture><source srcset="https://x.com/a.webp 1x, https://x.com/b.webp 2x" type="image/webp">'
            '<img src="https://x.com/a.jpg"></picture>'
            '<video poster="https://x.com/p.jpg" controls><source src="https://x.com/v.mp4"></video>')
    assert rewrite_images(html, POLICY) == (
        '<picture><source srcset="https://images.weserv.nl?url=x.com/a.webp 1x, '
        'https://images.weserv.nl?url=x.com/b.webp 2x" type="image/webp">'
        '<img src="https://images.weserv.nl?url=x.com/a.jpg" referrerpolicy="no-referrer"></picture>'
        '<video poster="https://images.weserv.nl?url=x.com/p.jpg" controls><source src="https://x.com/v.mp4"></video>'
    )


def test_relative_urls_with_base_url() -> None:
    html = '<img src="../img/a.jpg" srcset="b.jpg 2x"><video poster="/p.jpg"></video>'
    assert rewrite_images(html, POLICY, base_url=BASE) == (
        '<img src="https://images.weserv.nl?url=www.voachinese.com/a/img/a.jpg" '
        'srcset="https://images.weserv.nl?url=www.voachinese.com/a/story/b.jpg 2x" '
        'referrerpolicy="no-referrer"><video poster="https://images.weserv.nl?url=www.voachinese.com/p.jpg"></video>'
    )
    assert rewrite_images(html, POLICY) == html  # no base: left alone


def test_data_urls_excluded_and_proxied_images_keep_their_bytes() -> None:
    policy = ImagePolicy(templates=(WESERV,), exclude_hosts=("voanews.com",))
    html = ('<img src="data:image/png;base64,AA" >'
            "<img src='https://gdb.voanews.com/a.jpg'   width=1>"
            '<img  src="https://images.weserv.nl?url=x.com/a.jpg&amp;w=1" alt=\'x\'/>')
    assert rewrite_images(html, policy) == html


def test_markup_outside_image_tags_is_untouched() -> None:
    html = ('<!-- <img src="https://x.com/c.jpg"> --><script>var s = \'<img src="https://x.com/s.jpg">\';</script>'
            '<p title="<img src=https://x.com/t.jpg>">a &amp; b</p><textarea><img src="https://x.com/t.jpg"></textarea>'
            "<a href=\"https://x.com/a.jpg\">link</a><iframe src=\"https://x.com/i.jpg\"></iframe>")
    assert rewrite_images(html, POLICY) == html


def test_only_the_first_of_duplicate_attributes_counts() -> None:
    html = '<img src="https://x.com/a.jpg" src="https://x.com/b.jpg">'
    assert rewrite_images(html, POLICY) == (
        '<img src="https://images.weserv.nl?url=x.com/a.jpg" src="https://x.com/b.jpg" referrerpolicy="no-referrer">'
    )


def test_unterminated_tag_is_left_alone() -> None:
    html = '<p>x</p><img src="https://x.com/a.jpg"'
    assert rewrite_images(html, POLICY) == html


@pytest.mark.parametrize("templates", [(WESERV,), (WSRV,), (WESERV, WSRV)])
def test_idempotent(templates: tuple[str, ...]) -> None:
    policy = ImagePolicy(templates=templates)
    html = ('<img src="https://x.com/a.jpg" srcset="https://x.com/a.jpg 1x, b.jpg 2x">'
            '<picture><source srcset="https://x.com/a.webp"></picture><video poster="p.jpg"></video>')
    once = rewrite_images(html, policy, base_url=BASE)
    assert once != html
    assert rewrite_images(once, policy, base_url=BASE) == once


# -- the shared example article ----------------------------------------------------------

def test_example_article_is_identical_with_empty_policy(format_dir: Path) -> None:
    body = _example_body(format_dir)
    assert rewrite_images(body, ImagePolicy(), base_url="https://www.voachinese.com/") == body


def test_example_article_is_identical_with_weserv_template(format_dir: Path) -> None:
    body = _example_body(format_dir)
    assert body.count("https://images.weserv.nl?url=") == 2
    for templates in ((WESERV,), (WESERV, WSRV), (WSRV,)):
        policy = ImagePolicy(templates=templates)
        assert rewrite_images(body, policy, base_url="https://www.voachinese.com/") == body
