"""Speed of `sanitize_html` on realistic Chinese article bodies.

Run: ``python bench/sanitize.py [--n 2000] [--repeat 3] [--baseline REV]`` from the
repository root (``--baseline 7f6cb78`` times the version before the fast paths too).

Builds `--n` bodies deterministically (seeded): 3-7 KB of Chinese paragraphs, a figure
with an image (query strings, sometimes relative, sometimes with srcset), links with
utm_/fbclid parameters, grey captions with inline style, and in about a quarter of the
bodies one of: an iframe (allowed or refused), a ``<noscript>`` lazy-load image, a
tracking pixel (1x1 or a tracker host), a script and comment, an event handler. Every body
is sanitised `--repeat` times; the best round is reported as mean microseconds per call
and the total for the corpus. `corpus()` is also used by tests/content/test_clean.py to
check that the fast paths give the same output as the reference behaviour.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))

from newsmirror.content.clean import sanitize_html  # noqa: E402

SEED = 20260101
WORDS = ("中国 美国 台湾 香港 经济 贸易 会晤 政府 官员 表示 记者 报道 发布 政策 选举 人权 外交 "
         "军事 安全 市场 公司 科技 疫情 教育 法院 抗议 总统 主席 部长 议会 合作 谈判 白俄罗斯 "
         "乌克兰 停火 和谈 制裁 联合声明 新华社 美联社").split()
PUNCT = ("，", "，", "、", "；", "“", "”", "（2023年3月1日）", "")
BASES = ("https://www.voachinese.com/a/story-20230301/6985312.html",
         "https://www.rfa.org/mandarin/yataibaodao/2023/03/01/story.html",
         "https://www.bbc.com/zhongwen/simp/world-64800000", None)


def _sentence(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(6, 16)):
        parts.append(rng.choice(WORDS))
        if rng.random() < 0.25:
            parts.append(rng.choice(PUNCT))
    return "".join(parts) + "。"


def _link(rng: random.Random, i: int) -> str:
    host = rng.choice(("www.voachinese.com", "www.rfi.fr", "news.example.cn", "t.cn"))
    query = rng.choice((
        "", f"?id={i}", "?utm_source=rss&utm_medium=feed", f"?id={i}&amp;utm_campaign=c&amp;fbclid=Iw{i}",
        f"?spm=a2c4g.{i}",
    ))
    href = rng.choice((f"https://{host}/a/{i}.html{query}", f"/a/{i}.html{query}", f"#note{i}"))
    return f'<a href="{href}" target="_blank">{rng.choice(WORDS)}{rng.choice(WORDS)}</a>'


def _paragraph(rng: random.Random, i: int) -> str:
    pieces = [_sentence(rng) for _ in range(rng.randint(2, 5))]
    if rng.random() < 0.35:
        pieces.insert(rng.randrange(len(pieces) + 1), _link(rng, i))
    if rng.random() < 0.1:
        pieces.insert(0, f"<strong>{_sentence(rng)}</strong>")
    return f"<p>{''.join(pieces)}</p>"


def _figure(rng: random.Random, i: int) -> str:
    name = f"01000000-0aff-0242-{rng.getrandbits(16):04x}-08db1a76a{i:03d}_cx0_cy10_w900.jpg"
    src = rng.choice((
        f"https://gdb.voanews.com/{name}",
        f"https://images.weserv.nl?url=gdb.voanews.com/{name}&amp;w=900",
        f"https://img.example.cn/{i}/photo.jpg?w=900&amp;utm_source=feed",
        f"/img/{i}/photo.jpg?x-oss-process=image/resize,w_900",
        f"//cdn.example.com/{i}.jpg",
    ))
    extra = ""
    if rng.random() < 0.3:
        extra += f' srcset="https://img.example.cn/{i}/a.jpg 1x, https://img.example.cn/{i}/b.jpg?_ga=1 2x"'
    if rng.random() < 0.5:
        extra += ' width="900" height="600"'
    if rng.random() < 0.3:
        extra += ' loading="lazy" class="photo" data-src="x.jpg"'
    caption = _sentence(rng)
    return (f'<figure><img src="{src}" alt="{caption}"{extra}>'
            f'<figcaption>{caption}</figcaption></figure>')


def _occasional(rng: random.Random, i: int) -> str:
    roll = rng.random()
    if roll < 0.04:
        return ('<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315" '
                'allowfullscreen>视频</iframe>')
    if roll < 0.07:
        return f'<iframe src="https://evil.example/embed/{i}">fallback</iframe>'
    if roll < 0.12:
        return f'<noscript><img src="https://img.example.cn/{i}/real.jpg"></noscript>'
    if roll < 0.16:
        return f'<img src="https://x.example/p{i}.gif" width="1" height="1">'
    if roll < 0.19:
        return f'<img src="https://hm.baidu.com/hm.gif?si={i}">'
    if roll < 0.22:
        return '<script>var _hmt = _hmt || []; if (a < b) {}</script><!-- 广告 -->'
    if roll < 0.24:
        return f'<p onclick="alert(1)" style="background:url(x.png)">{_sentence(rng)}</p>'
    return ""


def body(rng: random.Random, i: int) -> str:
    parts = ["<div><i>Wed, 01 Mar 2023 18:14:47 GMT</i></div>"]
    target = rng.randint(3000, 6000)
    size = 0
    while size < target:
        part = _paragraph(rng, i)
        if rng.random() < 0.15:
            part += _figure(rng, i)
        if rng.random() < 0.04:
            part += f'<div><small style="color: #999;">{_sentence(rng)}</small></div>'
        parts.append(part)
        size += len(part.encode("utf-8"))
    parts.insert(1, _figure(rng, i))
    parts.insert(rng.randint(2, len(parts)), _occasional(rng, i))  # at most one per body
    return "".join(parts)


def corpus(n: int = 2000, seed: int = SEED) -> list[tuple[str, str | None]]:
    """`n` (body, base_url) pairs, the same every time for the same seed."""
    rng = random.Random(seed)
    return [(body(rng, i), rng.choice(BASES)) for i in range(n)]


def load_revision(rev: str):
    """`sanitize_html` as newsmirror/content/clean.py was at git revision `rev` (its
    imports, e.g. markup.py, come from the working tree)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:newsmirror/content/clean.py"],
        cwd=HERE.parents[1], check=True, capture_output=True, text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "clean_at_rev.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("clean_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sanitize_html


def one_round(function, bodies: list[tuple[str, str | None]]) -> float:
    start = time.perf_counter()
    for html, base in bodies:
        function(html, base_url=base)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", metavar="REV",
                        help="also time clean.py as it was at git revision REV (rounds "
                             "interleaved, so machine load hits both alike)")
    args = parser.parse_args()
    bodies = corpus(args.n)
    sizes = [len(html.encode("utf-8")) for html, _ in bodies]
    print(f"corpus: {len(bodies)} bodies, mean {statistics.mean(sizes) / 1024:.1f} KB "
          f"(min {min(sizes) / 1024:.1f}, max {max(sizes) / 1024:.1f})")
    variants = {"current": sanitize_html}
    if args.baseline:
        variants = {f"at {args.baseline}": load_revision(args.baseline), **variants}
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    for function in variants.values():
        one_round(function, bodies[:50])  # warm up
    for _ in range(args.repeat):
        for name, function in variants.items():
            rounds[name].append(one_round(function, bodies))
    for name, times in rounds.items():
        best = min(times)
        print(f"sanitize_html {name}: mean {best / len(bodies) * 1e6:.0f} µs per call, "
              f"total {best:.3f} s (best of {args.repeat}; rounds "
              + ", ".join(f"{t:.3f}" for t in times) + ")")
    if args.baseline:
        before, after = (min(times) for times in rounds.values())
        print(f"speed-up: {before / after:.1f}x")


if __name__ == "__main__":
    main()
