"""Extraction quality: newsmirror against the libraries it chooses between.

Run from the repository root:

    python bench/extraction.py [--write]              # the shared Chinese pages
    python bench/extraction.py --english [DIR] [--fetch] [--write]

Methods, each run on the same decoded page:

- ``newsmirror``: :func:`newsmirror.content.extract.extract_article`, no site rule
  (the generic chooser between trafilatura and readability);
- ``trafilatura``: ``trafilatura.extract`` with its defaults (plain text);
- ``trafilatura-precision``: the same with ``favor_precision=True``;
- ``readability``: readability-lxml's ``Document.summary()``, as text.

Chinese corpus (``<shared>/testdata/chinese-news-pages``): where ``result.txt`` holds a
reference extraction (GeneralNewsExtractor's output, not human ground truth) the text is
scored CJK-aware: every CJK character is one token, every run of other letters and
digits one token, white space and punctuation dropped; shingles are ``N = 3`` tokens
(three CJK characters is one or two words: specific enough that chance matches are
rare, short enough that one differing character spoils only three shingles). Per page
P = |ext ∩ ref| / |ext|, R = |ext ∩ ref| / |ref| over shingle multisets, F1 their
harmonic mean; the summary is the mean F1 over the pages with a reference.

English news (``--english``): scrapinghub's article-extraction-benchmark, 181 pages
(``ground-truth.json`` and ``html/<key>.html.gz``), scored as that benchmark's
evaluate.py defines it: tokens are ``\\w+`` runs, shingles 4 tokens, per page true and
false positives and false negatives over shingle multisets; precision and recall are
averaged over the pages (a page with an empty extraction and an empty truth counts 1),
F1 is the harmonic mean of the two averages. The pages are third-party material and are
never committed: ``DIR`` is a checkout of that repository, or (default) the git-ignored
cache ``bench/.cache/article-extraction-benchmark``, which ``--fetch`` fills from
GitHub at the pinned commit ``SCRAPINGHUB_COMMIT``.

Every table lists, per page, each method's F1; "regressions" are the pages where
newsmirror's F1 is more than ``REGRESSION`` below the best library's on that page.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE.parent))

from machine import markdown as machine_lines  # noqa: E402
from newsmirror.content.extract import ExtractionError, extract_article  # noqa: E402
from newsmirror.content.text import html_text  # noqa: E402

SHORT = 200
REGRESSION = 0.02
METHODS = ("newsmirror", "trafilatura", "trafilatura-precision", "readability")
LIBRARIES = METHODS[1:]

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
SCRAPINGHUB = "scrapinghub/article-extraction-benchmark"
SCRAPINGHUB_COMMIT = "11b407d43934becc20873bb3dcd5e3d2591746d3"
CACHE = HERE.parent / ".cache" / "article-extraction-benchmark"


def shared_dir() -> Path:
    env = os.environ.get("NEWSMIRROR_SHARED")
    return Path(env) if env else HERE.parents[2] / "shared"


# -- decoding ---------------------------------------------------------------

def decode(body: bytes) -> str:
    from newsmirror.parse.encoding import decode_document

    text, _encoding = decode_document(body, content_type=None)
    return text


# -- the methods --------------------------------------------------------------

def by_newsmirror(html: str, url: str) -> tuple[str, str | None, str]:
    """Text, title and the chooser's pick."""
    try:
        got = extract_article(html, url)
    except ExtractionError as exc:
        return "", None, f"error: {exc.reason}"
    return html_text(got.body_html), got.title, got.method


def by_trafilatura(html: str, url: str, *, precision: bool = False) -> str:
    import trafilatura

    try:
        return trafilatura.extract(html, url=url, favor_precision=precision) or ""
    except Exception:  # a library failing on a page scores 0 there, it does not stop the run
        return ""


def by_readability(html: str, url: str) -> str:
    from readability import Document

    try:
        return html_text(Document(html, url=url).summary(html_partial=True))
    except Exception:
        return ""


# -- scoring ------------------------------------------------------------------

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\u3040-\u30ff\uac00-\ud7af"
_CJK_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_WORD_TOKEN = re.compile(r"\w+")


def cjk_tokens(text: str) -> list[str]:
    return [t.lower() for t in _CJK_TOKEN.findall(text)]


def word_tokens(text: str) -> list[str]:
    return _WORD_TOKEN.findall(text or "")


def shingles(toks: list[str], n: int) -> Counter:
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


@dataclass
class Score:
    """One page's shingle counts: true positives, extracted, reference."""
    common: int
    extracted: int
    reference: int

    @property
    def p(self) -> float:
        if not self.extracted:
            return 1.0 if not self.reference else 0.0
        return self.common / self.extracted

    @property
    def r(self) -> float:
        if not self.reference:
            return 1.0 if not self.extracted else 0.0
        return self.common / self.reference

    @property
    def f1(self) -> float:
        p, r = self.p, self.r
        return 2 * p * r / (p + r) if p + r else 0.0


def score(extracted: str, reference: str, tokenize: Callable[[str], list[str]], n: int) -> Score:
    ext, ref = shingles(tokenize(extracted), n), shingles(tokenize(reference), n)
    return Score(sum((ext & ref).values()), sum(ext.values()), sum(ref.values()))


# -- the run ----------------------------------------------------------------

@dataclass
class Row:
    page: str
    picked: str = ""
    chars: dict[str, int] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)
    title: str | None = None
    title_ok: bool | None = None
    seconds: float = 0.0


def run_page(key: str, html: str, url: str, reference: str | None,
             tokenize: Callable[[str], list[str]], n: int) -> Row:
    start = time.perf_counter()
    text, title, picked = by_newsmirror(html, url)
    row = Row(key, picked, title=title, seconds=time.perf_counter() - start)
    texts = {"newsmirror": text,
             "trafilatura": by_trafilatura(html, url),
             "trafilatura-precision": by_trafilatura(html, url, precision=True),
             "readability": by_readability(html, url)}
    row.chars = {m: len(t) for m, t in texts.items()}
    if reference is not None:
        row.scores = {m: score(t, reference, tokenize, n) for m, t in texts.items()}
    return row


def load_references(path: Path) -> dict[str, dict]:
    """Parse result.txt: ``>>>…path>>>`` / JSON / ``<<<…`` blocks, keyed by page path."""
    refs: dict[str, dict] = {}
    blocks = re.finditer(r"^>{3,}(.+?)>{3,}\s*$\n(.*?)^<{3,}\s*$", path.read_text("utf-8"), re.M | re.S)
    for m in blocks:
        refs[m.group(1).strip()] = json.loads(m.group(2))
    return refs


def run_chinese(corpus: Path) -> list[Row]:
    refs = load_references(corpus / "result.txt")
    rows = []
    for page in sorted((corpus / "tests").rglob("*.htm*")):
        key = page.relative_to(corpus).as_posix()
        html = decode(page.read_bytes())
        url = f"https://{page.parent.name}.example/{page.name}"
        ref = refs.get(key)
        row = run_page(key, html, url, ref.get("content", "") if ref else None, cjk_tokens, 3)
        if ref:
            row.title_ok = _same_title(row.title, ref.get("title"))
        rows.append(row)
    return rows


def _same_title(got: str | None, want: str | None) -> bool | None:
    """Titles agree when one (punctuation and spaces ignored) contains the other."""
    if not want:
        return None
    a, b = "".join(cjk_tokens(got or "")), "".join(cjk_tokens(want))
    return bool(a) and (a in b or b in a)


def fetch_scrapinghub(into: Path) -> None:
    """ground-truth.json and every page it names, from GitHub at the pinned commit."""
    base = f"https://raw.githubusercontent.com/{SCRAPINGHUB}/{SCRAPINGHUB_COMMIT}/"
    (into / "html").mkdir(parents=True, exist_ok=True)
    truth = into / "ground-truth.json"
    if not truth.exists():
        truth.write_bytes(urllib.request.urlopen(base + "ground-truth.json", timeout=60).read())
    for key in json.loads(truth.read_text("utf-8")):
        page = into / "html" / f"{key}.html.gz"
        if not page.exists():
            page.write_bytes(urllib.request.urlopen(f"{base}html/{key}.html.gz", timeout=60).read())


def run_english(folder: Path) -> list[Row]:
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    rows = []
    for key, item in sorted(truth.items()):
        html = decode(gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()))
        rows.append(run_page(key, html, item.get("url") or f"https://{key[:12]}.example/",
                             item.get("articleBody", ""), word_tokens, 4))
    return rows


# -- the report -------------------------------------------------------------

def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def table(rows: list[Row]) -> str:
    head = "| page | picked | chars | " + " | ".join(f"F1 {m}" for m in METHODS) + " | title |"
    lines = [head, "|---|---|---:|" + "---:|" * len(METHODS) + "---|"]
    for r in rows:
        title = "" if r.title_ok is None else ("ok" if r.title_ok else "differs")
        f1s = " | ".join(_fmt(r.scores[m].f1) if r.scores else "" for m in METHODS)
        lines.append(f"| {r.page} | {r.picked} | {r.chars.get('newsmirror', 0)} | {f1s} | {title} |")
    return "\n".join(lines)


def aggregate(rows: list[Row], method: str) -> tuple[float, float, float, float]:
    """Mean P (over the pages with an extraction), mean R (over the pages with a
    reference), the F1 of those two means (scrapinghub's convention) and the mean of the
    pages' own F1 (an empty extraction scores 0 there)."""
    scored = [r.scores[method] for r in rows if r.scores]
    with_p = [s.p for s in scored if s.extracted]
    with_r = [s.r for s in scored if s.reference]
    if not with_p or not with_r:
        return (float("nan"),) * 4
    p, r = statistics.fmean(with_p), statistics.fmean(with_r)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), statistics.fmean(s.f1 for s in scored)


def regressions(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        if not r.scores:
            continue
        mine = r.scores["newsmirror"].f1
        best = max(LIBRARIES, key=lambda m: r.scores[m].f1)
        if r.scores[best].f1 - mine > REGRESSION:
            out.append(f"- {r.page}: newsmirror {mine:.3f} (picked {r.picked}) < {best} "
                       f"{r.scores[best].f1:.3f}")
    return out


def report(rows: list[Row], *, short_reasons: dict[str, str]) -> str:
    scored = [r for r in rows if r.scores]
    lines = [table(rows), "", f"pages: {len(rows)}, with reference: {len(scored)}", "",
             "| method | mean P | mean R | F1 of means | mean page F1 |", "|---|---:|---:|---:|---:|"]
    for m in METHODS:
        p, r, f, mean_f1 = aggregate(rows, m)
        lines.append(f"| {m} | {p:.4f} | {r:.4f} | {f:.4f} | {mean_f1:.4f} |")
    titled = [r for r in scored if r.title_ok is not None]
    if titled:
        lines.append(f"\ntitles agreeing with the reference: {sum(1 for r in titled if r.title_ok)}"
                     f"/{len(titled)}")
    short = [r.page for r in rows if r.chars.get("newsmirror", 0) < SHORT]
    lines.append(f"pages where newsmirror extracts under {SHORT} characters: {len(short) or 'none'}")
    lines += [f"- {p}: {short_reasons.get(p, 'not examined')}" for p in short]
    lines.append(f"empty newsmirror extractions: {sum(1 for r in rows if not r.chars.get('newsmirror'))}")
    regs = regressions(rows)
    lines.append(f"regressions (newsmirror more than {REGRESSION} F1 below the best library on a page): "
                 f"{len(regs) or 'none'}")
    lines += regs
    lines.append(f"newsmirror extraction time: {sum(r.seconds for r in rows):.1f} s total")
    return "\n".join(lines)


KEPT = "<!-- notes below this line are kept by --write -->"


def write_results(path: Path, sections: list[str]) -> None:
    """The figures, then whatever the file already holds below the KEPT line (notes written
    by hand about what was and was not measured)."""
    old = path.read_text("utf-8") if path.exists() else ""
    notes = old[old.index(KEPT):] if KEPT in old else KEPT + "\n"
    path.write_text("# Extraction benchmark results\n\nGenerated by `python bench/extraction.py "
                    "--write`; see its docstring for the methods and the scoring.\n\n"
                    + "\n".join(machine_lines()) + "\n\n" + "\n\n".join(sections) + "\n\n" + notes,
                    "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="also write bench/RESULTS-extraction.md")
    ap.add_argument("--english", nargs="?", const=CACHE, type=Path, metavar="DIR",
                    help=f"also score {SCRAPINGHUB} from DIR (default: {CACHE})")
    ap.add_argument("--fetch", action="store_true", help="fill the English cache from GitHub first")
    args = ap.parse_args(argv)
    corpus = shared_dir() / "testdata" / CORPUS_NAME
    if not corpus.is_dir():
        print(f"corpus not found at {corpus} (set NEWSMIRROR_SHARED)", file=sys.stderr)
        return 2
    sections = [f"## Chinese pages (`shared/testdata/{CORPUS_NAME}`, reference: its `result.txt`, "
                "GeneralNewsExtractor's output)\n\n"
                + report(run_chinese(corpus), short_reasons=SHORT_REASONS)]
    print(sections[0])
    if args.english is not None:
        if args.fetch:
            fetch_scrapinghub(args.english)
        if not (args.english / "ground-truth.json").is_file():
            print(f"no ground-truth.json in {args.english}: pass a checkout of {SCRAPINGHUB} or "
                  "--fetch (needs access to raw.githubusercontent.com)", file=sys.stderr)
            return 2
        sections.append(f"## English news ({SCRAPINGHUB} at {SCRAPINGHUB_COMMIT[:12]}, "
                        "human ground truth)\n\n" + report(run_english(args.english), short_reasons={}))
        print("\n" + sections[-1])
    if args.write:
        write_results(HERE.parent / "RESULTS-extraction.md", sections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
