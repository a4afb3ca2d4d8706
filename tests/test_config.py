from pathlib import Path

import pytest

from newsmirror.checks import config_problems
from newsmirror.config import DEFAULT_IMAGE_PROXY, ConfigError, load_config, parse_config

MINIMAL = '''
[[sources]]
slug = "voa"
name = "美国之音"
url = "http://127.0.0.1:8080/voa.xml"
'''


def test_the_minimal_configuration_always_works(tmp_path: Path):
    file = tmp_path / "newsmirror.toml"
    file.write_text(MINIMAL, encoding="utf-8")
    config = load_config(file)
    assert [s.slug for s in config.sources] == ["voa"]
    assert config.sources[0].name == "美国之音"
    assert config.archive == tmp_path / "archive"
    assert config.sources[0].full_text == "feed" and config.image_proxy == DEFAULT_IMAGE_PROXY


def test_a_config_without_an_image_proxy_gets_the_default_with_its_fallback(tmp_path: Path):
    from newsmirror.content.images import ImagePolicy, rewrite_images

    config = load_config(write(tmp_path, MINIMAL))
    assert config.image_proxy == DEFAULT_IMAGE_PROXY and len(DEFAULT_IMAGE_PROXY) >= 2
    policy = ImagePolicy(templates=config.image_proxy)
    body = '<img src="https://gdb.voanews.com/a/b.jpg?w=1">'
    assert rewrite_images(body, policy) == (
        '<img src="https://images.weserv.nl?url=gdb.voanews.com/a/b.jpg?w=1" '
        'referrerpolicy="no-referrer" '
        'data-fallback-src="https://wsrv.nl/?url=https%3A%2F%2Fgdb.voanews.com%2Fa%2Fb.jpg%3Fw%3D1">')
    # An address already going through the proxy (either name) is left alone.
    for proxied in ('<img src="https://images.weserv.nl?url=gdb.voanews.com/a.jpg">',
                    '<img src="https://wsrv.nl/?url=https%3A%2F%2Fgdb.voanews.com%2Fa.jpg">'):
        assert rewrite_images(proxied, policy) == proxied


def test_an_empty_image_proxy_turns_proxying_off(tmp_path: Path):
    config = load_config(write(tmp_path, "[images]\nproxy = []\n" + MINIMAL))
    assert config.image_proxy == ()
    source = MINIMAL.replace('url = "http', 'image_proxy = []\nurl = "http')
    assert load_config(write(tmp_path, source)).sources[0].image_proxy == ()


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "n.toml"
    file.write_text(text, encoding="utf-8")
    return file


@pytest.mark.parametrize("text, key, words", [
    ("[[sources]]\nslug='voa'\nname='x'\n", "sources[0] (voa).url", "is required"),
    ("[[sources]]\nslug='VOA!'\nname='x'\nurl='http://a.test/'\n", "sources[0].slug", "a-z"),
    ("[[sources]]\nslug='v'\nname='x'\nurl='ftp://a.test/'\n", "sources[0] (v).url", "not an http(s)"),
    ("[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\nfull_text='all'\n", "sources[0] (v).full_text", "one of"),
    ("[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\nsanitize='yes'\n", "sources[0] (v).sanitize", "must be a boolean"),
    ("[fetch]\ntimout=3\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "fetch.timout", "unknown key"),
    ("[fetch]\ntimeout=-1\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "fetch.timeout", "greater than 0"),
    ("[images]\nproxy='https://proxy.test/'\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "images.proxy", "placeholder"),
    ("[archive]\npush = 1\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "archive.push", "boolean"),
    ("", "sources", "no sources"),
    ("[site]\nmax_mb=0\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "site.max_mb", "greater than 0"),
    ("[site]\nmax_mb='1 GB'\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "site.max_mb", "must be a number"),
    ("[site]\nmax_mb=nan\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "site.max_mb", "greater than 0, not nan"),
    ("[site]\nmax_mb=inf\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "site.max_mb", "finite number, not inf"),
    ("[archive]\nweb_url='github.com/x'\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "archive.web_url", "not an http(s)"),
    ("[archive]\nsite_url='github.com/x'\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "archive.site_url", "not an http(s)"),
    ("[archive]\nsite_url='https://a.test/'\nweb_url='https://a.test/'\n[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n", "archive.site_url", "older name of archive.web_url"),
    ("[[sources]]\nslug='con'\nname='x'\nurl='http://a.test/'\n", "sources[0].slug", "device name on Windows"),
    ("[[sources]]\nslug='lpt9'\nname='x'\nurl='http://a.test/'\n", "sources[0].slug", "device name on Windows"),
    ("[[sources]]\nslug='nul'\nname='x'\nurl='http://a.test/'\n", "sources[0].slug", "device name on Windows"),
    ("[[sources]]\nslug='v'\nname='x'\nurl='http://a.test/'\n[[sources]]\nslug='v'\nname='y'\nurl='http://b.test/'\n", "sources", "used twice"),
])
def test_errors_name_file_key_and_problem(tmp_path: Path, text: str, key: str, words: str):
    file = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    message = str(caught.value)
    assert message.startswith(str(file)), message
    assert caught.value.key == key, message
    assert words in message


def test_broken_toml_and_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[[sources]\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_defaults_apply_to_every_source_and_sources_override(tmp_path: Path):
    config = parse_config({
        "defaults": {"full_text": "auto", "sanitize": True},
        "images": {"proxy": ["https://wsrv.nl/?url=${href_ue}"]},
        "sources": [{"slug": "a", "name": "A", "url": "https://a.test/"},
                    {"slug": "b", "name": "B", "url": "https://b.test/", "full_text": "feed",
                     "image_proxy": []}],
    }, file="t.toml", base=tmp_path)
    a, b = config.sources
    assert (a.full_text, a.sanitize, a.image_proxy) == ("auto", True, None)
    assert (b.full_text, b.image_proxy) == ("feed", ())
    assert config.image_proxy == ("https://wsrv.nl/?url=${href_ue}",)


def test_bundled_sources_can_be_picked_by_slug(tmp_path: Path):
    config = parse_config({"bundled_sources": ["voa", "bbc"]}, file="t.toml", base=tmp_path)
    assert [s.slug for s in config.sources] == ["voa", "bbc"]
    with pytest.raises(ConfigError, match="no bundled source named nope"):
        parse_config({"bundled_sources": ["nope"]}, file="t.toml", base=tmp_path)


def test_a_site_rules_file_is_checked_when_the_configuration_loads(tmp_path: Path):
    (tmp_path / "rules.toml").write_text('[mysite]\nhosts = ["news.example"]\nselector = "div[["\n')
    file = write(tmp_path, 'site_rules = "rules.toml"\n' + MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert caught.value.key == "site_rules" and "rules.toml" in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read site rules"):
        load_config(write(tmp_path, 'site_rules = "absent.toml"\n' + MINIMAL))


def test_bundled_sources_must_be_a_list_of_slugs(tmp_path: Path):
    with pytest.raises(ConfigError, match="list of slugs"):
        parse_config({"bundled_sources": ["voa", 3]}, file="t.toml", base=tmp_path)


def test_image_placeholders_are_checked(tmp_path: Path):
    base = {"slug": "dw", "name": "DW", "url": "https://rss.dw.com/rdf/rss-chi-all"}
    config = parse_config({"sources": [{**base, "image_placeholders": {"formatId": 906}}]},
                          file="t.toml", base=tmp_path)
    assert config.sources[0].image_placeholders == (("formatId", "906"),)
    with pytest.raises(ConfigError, match=r"sources\[0\] \(dw\)\.image_placeholders\.formatId: must be"):
        parse_config({"sources": [{**base, "image_placeholders": {"formatId": "a b"}}]},
                     file="t.toml", base=tmp_path)
    with pytest.raises(ConfigError, match=r"image_placeholders\.format-id: 'format-id' is not"):
        parse_config({"sources": [{**base, "image_placeholders": {"format-id": "906"}}]},
                     file="t.toml", base=tmp_path)
    with pytest.raises(ConfigError, match=r"image_placeholders: must be a table"):
        parse_config({"sources": [{**base, "image_placeholders": "906"}]}, file="t.toml", base=tmp_path)


def test_what_a_config_leaves_out_is_the_default_its_type_declares(tmp_path: Path):
    """One place for each default: beside its field (config.py's dataclasses and
    FetchSettings), never a second literal in the reader."""
    from dataclasses import fields

    from newsmirror.config import AlertSettings, Config, SourceConfig
    from newsmirror.fetch.settings import FetchSettings

    config = parse_config({"sources": [{"slug": "voa", "name": "VOA", "url": "https://a.test/f"}]},
                          file="t.toml", base=tmp_path)
    assert config.fetch == FetchSettings()
    assert config.alerts == AlertSettings()
    [source] = config.sources
    for f in fields(SourceConfig):
        if f.name not in ("slug", "name", "url"):
            assert getattr(source, f.name) == getattr(SourceConfig, f.name, None), f.name
    for name in ("title", "remote_name", "branch", "push", "list_size", "feed_content", "rotate"):
        assert getattr(config, name) == getattr(Config, name), name


def test_the_archive_web_url_keeps_its_older_name(tmp_path: Path):
    """`[archive] web_url` was called site_url, beside `[site] url` for the reading site:
    archives configured with the older name keep their feeds' links."""
    older = load_config(write(tmp_path, "[archive]\nsite_url = 'https://github.com/a/b/blob/main/'\n" + MINIMAL))
    newer = load_config(write(tmp_path, "[archive]\nweb_url = 'https://github.com/a/b/blob/main'\n" + MINIMAL))
    assert older.web_url == newer.web_url == "https://github.com/a/b/blob/main"
    assert older.site_address is None


@pytest.mark.parametrize("key", ["web_url", "site_url"])
def test_a_web_url_problem_names_the_key_the_file_used(tmp_path: Path, key: str):
    """`newsmirror check` points at the line the user wrote, under either name."""
    config = load_config(write(tmp_path, f"[archive]\n{key} = 'https://a b.example/'\n" + MINIMAL))
    [problem] = config_problems(config, push=False)
    assert problem.key == f"archive.{key}" and "contains a space" in str(problem)


@pytest.mark.parametrize("value, problem", [
    ("monthly", "'monthly' is not one of 'none', 'yearly'"),
    (True, "must be"),
])
def test_rotate_is_none_or_yearly(tmp_path: Path, value, problem):
    source = [{"slug": "voa", "name": "VOA", "url": "https://a.test/f"}]
    assert parse_config({"archive": {"rotate": "yearly"}, "sources": source},
                        file="t.toml", base=tmp_path).rotate == "yearly"
    with pytest.raises(ConfigError) as caught:
        parse_config({"archive": {"rotate": value}, "sources": source}, file="t.toml", base=tmp_path)
    assert caught.value.file == "t.toml" and caught.value.key == "archive.rotate"
    assert problem in str(caught.value)


# -- git names: the shortcut agrees with git ---------------------------------------------
@pytest.mark.parametrize("name", [
    "main", "master", "gh-pages", "archive_2026", "9", "HEAD", "HEADx", "head", "-x", "a..b",
    "a.lock", "a/b", "a b", "a@{1}", "@", ".x", "x.", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b",
    "新闻", "é", "a\x7f", "",
])
def test_a_plain_git_name_is_one_git_takes(name: str) -> None:
    import subprocess

    from newsmirror.checks import _plain_name

    def git_takes(*args: str) -> bool:
        return subprocess.run(["git", "check-ref-format", *args], capture_output=True).returncode == 0

    if _plain_name(name, branch=True):
        assert git_takes("--branch", name)
    if _plain_name(name):
        assert git_takes(f"refs/remotes/{name}/HEAD")
    if name in ("main", "master", "gh-pages", "archive_2026"):
        assert _plain_name(name, branch=True)  # what configurations use: git is not asked
