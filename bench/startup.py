"""What a command pays before it does its work (issue 16, item 7): interpreter, imports,
typer, configuration.

    python bench/startup.py [--runs N] [--importtime]

Median of N runs (default 15, interleaved so a loaded machine slows all alike) of:

- `python -c pass`: the interpreter alone, the floor;
- `newsmirror --help`;
- `newsmirror check` on a small configuration (2 sources, no network);
- `newsmirror run` up to its first request: the time from starting the process to the
  first request a loopback server receives (the run is then ended; what it pays before
  it fetches includes opening the archive, here a new one: `git init`).

The commands run with PYTHONDONTWRITEBYTECODE removed from their environment: an installed
newsmirror runs from cached bytecode after its first start, so a run that compiles every
module each time (a sandbox with that variable set) measures what no scheduled run pays.

Prints each median, its excess over `python -c pass`, the machine, and with --importtime
the ten largest imports of a run (`python -X importtime`, cumulative). Beside each wall
time it prints the CPU time the command used (user + system, its own children such as
`git init` included, from wait4): on a machine shared with other work the wall time
grows with the load, and the CPU time says what the command itself costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TARGET_S = 0.3


class FirstRequest:
    """A loopback server that notes when each request arrives and answers 503."""

    def __init__(self) -> None:
        self.arrived: list[float] = []
        seen = self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(time.time())
                try:
                    self.send_error(503)
                except OSError:
                    pass  # the run was ended as soon as it asked

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.xml"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_config(folder: Path, url: str) -> Path:
    path = folder / "newsmirror.toml"
    path.write_text("\n".join([
        "[archive]", 'path = "archive"', 'title = "启动 基准"', "push = false", "",
        "[[sources]]", 'slug = "one"', 'name = "一"', f'url = "{url}"', "",
        "[[sources]]", 'slug = "two"', 'name = "二"', f'url = "{url}?2"', ""]), encoding="utf-8")
    return path


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if "proxy" not in k.lower() and k != "PYTHONDONTWRITEBYTECODE"}


def reap(proc: subprocess.Popen) -> tuple[int, float]:
    """Wait for `proc`: its exit status and the CPU seconds it used (user + system)."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    code, cpu = reap(proc)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{argv} failed ({code}): {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return wall, cpu


def until_first_request(argv: list[str], cwd: Path, server: FirstRequest) -> tuple[float, float]:
    """Seconds from starting `newsmirror run` to the server's first request; the run is
    then killed (its own process id, nothing else). With the CPU seconds it used until
    it was killed (a few milliseconds after the request, at most)."""
    archive = cwd / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    server.arrived.clear()
    started = time.time()
    proc = subprocess.Popen(argv, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not server.arrived and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    first = server.arrived[0] if server.arrived else None
    proc.kill()
    _code, cpu = reap(proc)
    if first is None:
        raise SystemExit(f"`newsmirror run` made no request: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return first - started, cpu


def importtime(argv: list[str], cwd: Path, top: int = 10) -> list[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=cwd, env=env(),
                          capture_output=True, text=True, check=False, timeout=120)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), name.rstrip()[1:], int(own)))
    # What the top-level imports import directly, largest cumulative first.
    rows = [r for r in rows if r[1].startswith("  ") and not r[1].startswith("    ")]
    rows.sort(key=lambda r: -r[0])
    return [f"{name.strip()}: {cum / 1000:.1f} ms" for cum, name, _ in rows[:top]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsmirror-startup-"))
    server = FirstRequest()
    try:
        config = write_config(work, server.url)
        cli = [sys.executable, "-m", "newsmirror"]
        cases = {
            "python -c pass": lambda: timed([sys.executable, "-c", "pass"], work),
            "newsmirror --help": lambda: timed([*cli, "--help"], work),
            "newsmirror check (2 sources)": lambda: timed([*cli, "check", "--config", str(config), "--no-push"], work),
            "newsmirror run, to its first request": lambda: until_first_request(
                [*cli, "run", "--config", str(config), "--no-push"], work, server),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, case in cases.items():
                wall, cpu = case()
                samples[name].append(wall)
                cpus[name].append(cpu)
        floor = statistics.median(samples["python -c pass"])
        cpu_floor = statistics.median(cpus["python -c pass"])
        print(f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
              f"load average {os.getloadavg()[0]:.1f}; median of {args.runs} interleaved runs")
        for name, values in samples.items():
            median = statistics.median(values)
            line = f"{name}: {median:.3f} s"
            if name != "python -c pass":
                excess = median - floor
                line += (f" = python -c pass + {excess:.3f} s "
                         f"({'within' if excess < TARGET_S else 'OVER'} the {TARGET_S} s budget)")
            cpu = statistics.median(cpus[name])
            line += f"  [min {min(values):.3f}, max {max(values):.3f}]; CPU {cpu:.3f} s"
            if name != "python -c pass":
                line += (f" = python -c pass + {cpu - cpu_floor:.3f} s "
                         f"({'within' if cpu - cpu_floor < TARGET_S else 'OVER'} the budget)")
            print(line)
        if args.importtime:
            print("largest imports of `newsmirror run` (python -X importtime, cumulative):")
            code = ("import newsmirror.cli, newsmirror.cli.run, newsmirror.jobs.mirror")
            for line in importtime(["-c", code], work):
                print("  " + line)
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
