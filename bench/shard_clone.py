"""What the workflow pays for the open shard's clone each hour: a shallow clone from the
shard's remote (the clones are left out of the cache) against restoring the clone from
the cache, had it been kept (and saving it again, which the cache does every hour).

Builds (once, with bench/git_steps.py's `built`) a bare repository standing in for the
shard's host: ARTICLES articles (default 100,000) over one year of hourly commits. Then,
REPEAT times (median shown):

- clone: `git clone --depth 1` over the pack protocol (a file:// address), working tree
  included, as a run makes the open shard's clone when the cache has none;
- restore (the floor): extracting the clone from a tar archive compressed as
  actions/cache compresses (zstd when the machine has it, else gzip), which is the local
  part of a cache restore (GitHub adds the download);
- save: making that archive from the clone, which a cache that kept the clone pays every
  hour (GitHub adds the upload, and the entry counts against the 10 GB limit).

    python bench/shard_clone.py              # the figures in bench/RESULTS-shard-clone.md
    python bench/shard_clone.py --quick      # 2,000 articles, seconds
    python bench/shard_clone.py --write      # also rewrite bench/RESULTS-shard-clone.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from git_steps import built, du, git, timed
from machine import markdown as machine


def tar(*args: str) -> None:
    subprocess.run(["tar", *args], check=True)


def one_run(bare: Path, tmp: Path, compress: str) -> dict[str, float]:
    clone, entry, back = tmp / "clone", tmp / "entry.tar", tmp / "restored"
    figures: dict[str, float] = {}
    figures["clone"], _ = timed(lambda: git("clone", "-q", "--depth", "1", "--branch", "main",
                                            bare.as_uri(), str(clone)), "clone")
    figures["clone_mb"] = du(clone) / 2**20
    figures["save"], _ = timed(lambda: tar("-c", compress, "-f", str(entry), "-C", str(clone), "."), "save")
    figures["entry_mb"] = entry.stat().st_size / 2**20
    back.mkdir()
    figures["restore"], _ = timed(lambda: tar("-x", compress, "-f", str(entry), "-C", str(back)), "restore")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newsmirror-git-bench")
    parser.add_argument("--quick", action="store_true", help="2,000 articles, once")
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS-shard-clone.md")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.repeat = 2_000, 1
    bare, _build_s = built(args.work, args.articles, 1)
    compress = "--zstd" if shutil.which("zstd") else "--gzip"
    runs: list[dict[str, float]] = []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=args.work) as tmp:
            runs.append(one_run(bare, Path(tmp), compress))
        print(f"  #{n + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), file=sys.stderr)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def each(key: str) -> str:
        return f" ({', '.join(f'{r[key]:.2f}' for r in runs)})" if len(runs) > 1 else ""

    files = git("ls-tree", "-r", "--name-only", "main", cwd=bare).count("\n") + 1
    floor = med("restore")
    lines = [f"Shard: {args.articles} articles, {files} files, one year of hourly commits; "
             f"cache archive compressed with {compress.removeprefix('--')}.", "",
             f"Median of {args.repeat} (each figure in brackets).", "",
             "| step | wall time | ratio to the floor |", "| --- | ---: | ---: |",
             f"| restore the clone from the cache archive (floor) | {floor:.2f} s{each('restore')} | 1.00× |",
             f"| shallow clone from the shard's remote (the clone left out of the cache) | {med('clone'):.2f} s{each('clone')} "
             f"| {med('clone') / floor:.2f}× |",
             f"| save the clone into a new cache archive (every hour, if kept) | {med('save'):.2f} s{each('save')} "
             f"| {med('save') / floor:.2f}× |",
             f"| kept: restore + save | {floor + med('save'):.2f} s | {(floor + med('save')) / floor:.2f}× |",
             "", f"The clone takes {med('clone_mb'):.0f} MB on disk; its cache archive {med('entry_mb'):.0f} MB."]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    table = "\n".join(lines) + f"\n\nLoad average when the timing ended: {load:.1f} (on {os.cpu_count()} CPUs)."
    print(table)
    if args.write:
        text = ("# The open shard's clone: cloned each hour, or kept in the cache\n\n"
                "Written by `python bench/shard_clone.py --write` (see its docstring for what is "
                "timed).\n\n## Machine\n\n" + "\n".join(machine()) + "\n\n## Results\n\n" + table + "\n")
        (HERE / "RESULTS-shard-clone.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
