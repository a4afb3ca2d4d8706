"""The per-article content stage: what the pipeline applies to a body and a title."""

from __future__ import annotations

from dataclasses import dataclass

from newsmirror.content.chinese import check_config, convert_html, convert_text
from newsmirror.content.clean import sanitize_html
from newsmirror.content.images import ImagePolicy, rewrite_images


@dataclass(frozen=True)
class ContentSettings:
    """A source's content settings; the defaults change nothing."""

    sanitize: bool = False
    images: ImagePolicy = ImagePolicy()
    convert: str | None = None
    """An OpenCC config name (``t2s``, ``s2twp``, …) or None for no conversion."""

    def __post_init__(self) -> None:
        if self.convert is not None:
            check_config(self.convert)


def transform_body(html: str, *, base_url: str | None, settings: ContentSettings) -> str:
    """Sanitise (if asked), then proxy images, then convert the script; with default
    settings `html` comes back unchanged. The same as `finish_body` of `clean_body`."""
    html = clean_body(html, base_url=base_url, settings=settings)
    return finish_body(html, base_url=base_url, settings=settings, sanitized=settings.sanitize)


def clean_body(html: str, *, base_url: str | None, settings: ContentSettings) -> str:
    """The first half of `transform_body`: sanitise, if the source asks for it."""
    if settings.sanitize:
        html = sanitize_html(html, base_url=base_url)
    return html


def finish_body(html: str, *, base_url: str | None, settings: ContentSettings,
                sanitized: bool = False) -> str:
    """The second half of `transform_body`: proxy images, then convert the script. Between
    the two halves a source that downloads its images localises them; it then passes
    ``base_url=None`` so the relative links to the local copies are left alone.
    `sanitized`: `html` is `clean_body`'s sanitised output untouched since."""
    html = rewrite_images(html, settings.images, base_url=base_url, sanitized=sanitized)
    if settings.convert:
        html = convert_html(html, settings.convert)
    return html


def transform_title(title: str, settings: ContentSettings) -> str:
    """The title converted (if asked); nothing else is done to it."""
    return convert_text(title, settings.convert) if settings.convert else title
