"""The per-article composition: sanitise, then images, then conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.archive.article import parse_article
from newsmirror.content.images import ImagePolicy
from newsmirror.content.transform import ContentSettings, transform_body, transform_title

WESERV = "https://images.weserv.nl?url=${host}${pathname}${search}"
BASE = "https://www.voachinese.com/a/story/1.html"


@pytest.fixture(scope="module")
def example(format_dir: Path):
    return parse_article((format_dir / "example-article.md").read_bytes())


def test_defaults_are_the_identity_on_the_example(example) -> None:
    settings = ContentSettings()
    assert transform_body(example.body, base_url=example.link, settings=settings) == example.body
    assert transform_title(example.title, settings) == example.title


def test_weserv_policy_is_the_identity_on_the_example(example) -> None:
    settings = ContentSettings(images=ImagePolicy(templates=(WESERV,)))
    assert transform_body(example.body, base_url=example.link, settings=settings) == example.body


def test_title_is_only_converted() -> None:
    settings = ContentSettings(sanitize=True, images=ImagePolicy(templates=(WESERV,)), convert="s2t")
    assert transform_title("<b>中国</b> & 白俄", settings) == "<b>中國</b> & 白俄"


def test_order_sanitise_then_images_then_convert() -> None:
    settings = ContentSettings(sanitize=True, images=ImagePolicy(templates=(WESERV,)), convert="s2t")
    html = ('<p onclick="x()">中国<img src="../img/国.jpg?utm_source=rss" alt="国"></p>'
            '<script>alert("国")</script>')
    assert transform_body(html, base_url=BASE, settings=settings) == (
        '<p>中國<img src="https://images.weserv.nl?url=www.voachinese.com/a/img/%E5%9B%BD.jpg" '
        'alt="国" referrerpolicy="no-referrer"></p>'
    )


def test_each_step_alone() -> None:
    html = '<p onclick="x()">国<img src="/a.jpg"></p>'
    sanitised = transform_body(html, base_url=BASE, settings=ContentSettings(sanitize=True))
    assert sanitised == '<p>国<img src="https://www.voachinese.com/a.jpg"></p>'
    proxied = transform_body(html, base_url=BASE, settings=ContentSettings(images=ImagePolicy(templates=(WESERV,))))
    assert proxied == ('<p onclick="x()">国<img src="https://images.weserv.nl?url=www.voachinese.com/a.jpg" '
                       'referrerpolicy="no-referrer"></p>')
    converted = transform_body(html, base_url=BASE, settings=ContentSettings(convert="s2t"))
    assert converted == '<p onclick="x()">國<img src="/a.jpg"></p>'


def test_bad_convert_name_fails_when_the_settings_are_made() -> None:
    with pytest.raises(ValueError, match="unknown OpenCC config 'zh'"):
        ContentSettings(convert="zh")


def test_settings_are_frozen_and_hashable() -> None:
    settings = ContentSettings(images=ImagePolicy(templates=(WESERV,)))
    assert hash(settings) == hash(ContentSettings(images=ImagePolicy(templates=(WESERV,))))
    with pytest.raises(AttributeError):
        settings.sanitize = True  # type: ignore[misc]
