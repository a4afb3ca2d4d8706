"""Extraction quality benchmark over the shared corpus of Chinese news pages.

Run: ``python bench/extraction.py [--write]`` from the repository root.

For every page under ``<shared>/testdata/chinese-news-pages/tests`` it runs
:func:`newsmirror.content.extract.extract_article` and, where ``result.txt``
holds a reference extraction, scores the extracted text against the
reference content.

Scoring: text is tokenised CJK-aware — every CJK character is one token, every
run of ASCII/Latin letters and digits is one token; white space and
punctuation are dropped.  Shingles are the n-grams of ``N = 3`` consecutive
tokens (three CJK characters is roughly one or two words: specific enough that
chance matches are rare, short enough that a single differing character only
spoils three shingles).  Precision and recall are computed over shingle
multisets: P = |ext ∩ ref| / |ext|, R = |ext ∩ ref| / |ref|, F1 their harmonic
mean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from newsmirror.content.extract import ExtractionError, extract_article  # noqa: E402

N = 3
SHORT = 200

#: Why the pages known to extract short are short (checked by hand).
SHORT_REASONS = {
    "tests/hexun/1.html": "a two-sentence news brief",
    "tests/mingridapan/1.html": "a one-paragraph item on a stock-tips portal",
    "tests/readhub/readhub.html": "a one-paragraph digest (F1 1.0 against the reference)",
    "tests/toutiao/2.html": "a picture gallery; only the first caption is in the HTML, the rest load by script",
    "tests/other/1.html": "a gov.cn bulletin shell with navigation only; the text is not in the saved HTML",
    "tests/wechat/1.html": "WeChat article both generic extractors miss; the bundled `wechat` site rule "
                           "(#js_content) extracts all 1,755 characters",
}
CORPUS_NAME = "chinese-news-pages"


def shared_dir() -> Path:
    env = os.environ.get("NEWSMIRROR_SHARED")
    return Path(env) if env else HERE.parents[2] / "shared"


# -- decoding ---------------------------------------------------------------

def decode(body: bytes) -> str:
    """Decode page bytes, preferring the project's decoder when it exists."""
    try:
        from newsmirror.parse.encoding import decode_document
    except ImportError:
        return _fallback_decode(body)
    text, _encoding = decode_document(body, content_type=None)
    return text


def _fallback_decode(body: bytes) -> str:
    """BOM, then valid UTF-8, then the declared charset, then GB18030."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = re.search(rb"charset=[\"']?([A-Za-z0-9_-]+)", body[:4096])
    names = [m.group(1).decode("ascii")] if m else []
    for name in [*names, "gb18030"]:
        name = "gb18030" if name.lower() in ("gb2312", "gbk") else name
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


# -- references and scoring -------------------------------------------------

def load_references(path: Path) -> dict[str, dict]:
    """Parse result.txt: ``>>>…path>>>`` / JSON / ``<<<…`` blocks, keyed by page path."""
    refs: dict[str, dict] = {}
    blocks = re.finditer(r"^>{3,}(.+?)>{3,}\s*$\n(.*?)^<{3,}\s*$", path.read_text("utf-8"), re.M | re.S)
    for m in blocks:
        refs[m.group(1).strip()] = json.loads(m.group(2))
    return refs


_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\u3040-\u30ff\uac00-\ud7af]"
    r"|[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+"
)


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def shingles(text: str, n: int = N) -> Counter:
    toks = tokens(text)
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def prf(extracted: str, reference: str) -> tuple[float, float, float]:
    ext, ref = shingles(extracted), shingles(reference)
    common = sum((ext & ref).values())
    p = common / sum(ext.values()) if ext else 0.0
    r = common / sum(ref.values()) if ref else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


# -- the run ----------------------------------------------------------------

@dataclass
class Row:
    page: str
    method: str
    chars: int
    p: float | None = None
    r: float | None = None
    f1: float | None = None
    title_ok: bool | None = None
    seconds: float = 0.0


def run(corpus: Path) -> list[Row]:
    refs = load_references(corpus / "result.txt")
    rows = []
    for page in sorted((corpus / "tests").rglob("*.htm*")):
        key = page.relative_to(corpus).as_posix()
        html = decode(page.read_bytes())
        url = f"https://{page.parent.name}.example/{page.name}"
        start = time.perf_counter()
        title = None
        try:
            got = extract_article(html, url)
            method, text, title = got.method, got.text, got.title
        except ExtractionError as exc:
            method, text = f"error: {exc.reason}", ""
        row = Row(key, method, len(text), seconds=time.perf_counter() - start)
        if key in refs:
            row.p, row.r, row.f1 = prf(text, refs[key].get("content", ""))
            row.title_ok = _same_title(title, refs[key].get("title"))
        rows.append(row)
    return rows


def _same_title(got: str | None, want: str | None) -> bool | None:
    """Titles agree when one (punctuation and spaces ignored) contains the other."""
    if not want:
        return None
    a, b = "".join(tokens(got or "")), "".join(tokens(want))
    return bool(a) and (a in b or b in a)


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def table(rows: list[Row]) -> str:
    lines = ["| page | method | chars | P | R | F1 | title |", "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        title = "" if r.title_ok is None else ("ok" if r.title_ok else "differs")
        lines.append(f"| {r.page} | {r.method} | {r.chars} | {_fmt(r.p)} | {_fmt(r.r)} | {_fmt(r.f1)} | {title} |")
    return "\n".join(lines)


def summary(rows: list[Row]) -> dict:
    scored = [r.f1 for r in rows if r.f1 is not None]
    return {
        "pages": len(rows),
        "with_reference": len(scored),
        "mean_f1": statistics.fmean(scored) if scored else float("nan"),
        "mean_p": statistics.fmean([r.p for r in rows if r.p is not None]) if scored else float("nan"),
        "mean_r": statistics.fmean([r.r for r in rows if r.r is not None]) if scored else float("nan"),
        "short": [r.page for r in rows if r.chars < SHORT],
        "empty": sum(1 for r in rows if r.chars == 0),
        "titles_ok": sum(1 for r in rows if r.title_ok),
        "seconds": sum(r.seconds for r in rows),
    }


def report(rows: list[Row], s: dict) -> str:
    return "\n".join([
        table(rows),
        "",
        f"pages: {s['pages']}, with reference: {s['with_reference']}",
        f"mean F1 over pages with a reference: {s['mean_f1']:.3f} "
        f"(mean P {s['mean_p']:.3f}, mean R {s['mean_r']:.3f})",
        f"titles agreeing with the reference: {s['titles_ok']}/{s['with_reference']}",
        f"pages under {SHORT} characters: {len(s['short']) or 'none'}",
        *(f"- {p}: {SHORT_REASONS.get(p, 'not examined')}" for p in s["short"]),
        f"empty pages: {s['empty']}",
        f"extraction time: {s['seconds']:.1f} s total",
    ])


def write_results(path: Path, text: str) -> None:
    nproc = os.cpu_count()
    try:
        machine = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    except OSError:
        machine = platform.machine()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(
        "# Extraction benchmark results\n\n"
        f"Generated by `python bench/extraction.py --write` on {stamp}; "
        f"machine `{machine}`, nproc {nproc}, Python {platform.python_version()}.\n\n"
        f"Corpus: `shared/testdata/{CORPUS_NAME}` (reference: that corpus's `result.txt`, "
        "the GeneralNewsExtractor output — not human ground truth).\n"
        f"Scoring: CJK-aware {N}-token shingles, multiset precision/recall/F1 "
        "(see the docstring of bench/extraction.py).\n\n"
        + text + "\n",
        "utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="also write bench/RESULTS-extraction.md")
    args = ap.parse_args(argv)
    corpus = shared_dir() / "testdata" / CORPUS_NAME
    if not corpus.is_dir():
        print(f"corpus not found at {corpus} (set NEWSMIRROR_SHARED)", file=sys.stderr)
        return 2
    rows = run(corpus)
    text = report(rows, summary(rows))
    print(text)
    if args.write:
        write_results(HERE.parent / "RESULTS-extraction.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
