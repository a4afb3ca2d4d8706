"""How a GitHub Actions runner installs the newsmirror that ran `newsmirror init`.

newsmirror is not on a package index, so a workflow that says `pip install newsmirror`
installs nothing, or whatever someone registered under that free name (run with
`contents: write`). The workflow therefore installs exactly the newsmirror the operator
ran, from a source that exists:

- installed from a git repository the runner can reach (pip records the URL and commit
  in the distribution's direct_url.json, PEP 610): that URL pinned to that commit;
- installed from a downloadable archive (an http(s) URL with a hash): that URL and hash;
- anything else (a local folder, editable or not, a local file, or an index nobody can
  check): a wheel of the running newsmirror, built from its installed files and committed
  into the archive as `.newsmirror/dist/newsmirror-VERSION-py3-none-any.whl`.

The dependencies come from PyPI, pinned by a constraints file to the versions installed
where `init` ran, so the runner gets what the operator tested.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path, PurePosixPath

from newsmirror.archive.paths import CONSTRAINTS_FILE, DIST_DIR
from newsmirror.errors import NewsmirrorError

DIST_NAME = "newsmirror"
PACKAGE_SUFFIXES = frozenset({".py", ".toml", ".xml", ".html", ".css", ".js", ".j2", ".yml",
                              ".txt", ".opml"})
"""What the package consists of (pyproject.toml's package-data, and the code)."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every entry's time stamp: the same code makes the same wheel, byte for byte."""
_SKIPPED_METADATA = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
"""Written by the installer, not part of a wheel."""


class InstallError(NewsmirrorError, RuntimeError):
    """The running newsmirror cannot be packaged for the workflow."""

    def lines(self) -> list[str]:
        return [f"cannot package newsmirror for the workflows: {self}"]


@dataclass(frozen=True)
class InstallChoice:
    """Where the workflow installs newsmirror from."""

    requirement: str
    """The requirements.txt line."""
    why: str
    """One sentence for the operator: what was chosen and why."""
    wheel: bool = False
    """True: the requirement is a wheel `init` builds into the archive."""


# -- choosing ---------------------------------------------------------------------------
def _reachable(url: str) -> bool:
    """A URL a GitHub runner can fetch from (not a local path, not this machine)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("https", "http", "ssh") and bool(host) \
        and host != "localhost" and not host.startswith("127.") and host != "::1"


def wheel_name(version: str, tags: str = "py3-none-any", name: str = DIST_NAME) -> str:
    return f"{re.sub(r'[-_.]+', '_', name)}-{version.replace('-', '_')}-{tags}.whl"


def choose_install(direct_url: dict | None, version: str) -> InstallChoice:
    """The install source for a newsmirror whose direct_url.json is `direct_url` (None
    when there is none: installed from an index, or by something other than pip)."""
    wheel = InstallChoice(f"./{DIST_DIR}/{wheel_name(version)}", "", wheel=True)
    if not isinstance(direct_url, dict) or not isinstance(direct_url.get("url"), str):
        return InstallChoice(wheel.requirement, "newsmirror was not installed from a git "
                             "repository or a download the runner can reach, so the archive "
                             f"carries a wheel of it ({wheel.requirement[2:]})", wheel=True)
    url = direct_url["url"]
    subdirectory = direct_url.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) else ""
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and isinstance(vcs.get("commit_id"), str) \
            and _reachable(url):
        commit = vcs["commit_id"]
        return InstallChoice(f"{DIST_NAME} @ git+{url}@{commit}{fragment}",
                             f"newsmirror {version} was installed from the git repository {url}; "
                             f"the workflow installs the same commit {commit[:12]}")
    archive = direct_url.get("archive_info")
    if isinstance(archive, dict) and url.startswith("https://"):
        hashes = archive.get("hashes")
        digest = hashes.get("sha256") if isinstance(hashes, dict) else None
        if not digest and isinstance(archive.get("hash"), str) and archive["hash"].startswith("sha256="):
            digest = archive["hash"].split("=", 1)[1]
        if digest:
            return InstallChoice(f"{DIST_NAME} @ {url}#sha256={digest}",
                                 f"newsmirror {version} was installed from {url}; the workflow "
                                 "installs that file, checked by its SHA-256")
    where = "an editable local folder" if (direct_url.get("dir_info") or {}).get("editable") \
        else "a local folder or file" if url.startswith("file:") else url
    return InstallChoice(wheel.requirement, f"newsmirror {version} was installed from {where}, "
                         "which the runner cannot reach, so the archive carries a wheel of it "
                         f"({wheel.requirement[2:]})", wheel=True)


def _has_record(dist: metadata.Distribution) -> bool:
    return any(str(entry).endswith(".dist-info/RECORD") for entry in dist.files or ())


def installed_distribution(name: str = DIST_NAME) -> metadata.Distribution:
    """The installed distribution `name`: the .dist-info an installer wrote (with a
    RECORD), not a build's leftover .egg-info that the current folder may put first."""
    found = list(metadata.distributions(name=name))
    for dist in found:
        if _has_record(dist):
            return dist
    if not found:
        raise InstallError(f"{name} is not installed")
    return found[0]


def running_install() -> InstallChoice:
    """choose_install for the newsmirror that is running."""
    dist = installed_distribution()
    raw = dist.read_text("direct_url.json")
    try:
        direct_url = json.loads(raw) if raw else None
    except ValueError:
        direct_url = None
    return choose_install(direct_url, dist.version)


# -- constraints --------------------------------------------------------------------------
def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_dependencies(name: str = DIST_NAME, tools: tuple[str, ...] = ("pip",)) -> list[str]:
    """`name==version` for every installed distribution `name` depends on (its
    requirements and theirs, extras included, markers evaluated here), and for the
    installed `tools` (the pip that installed them: an older pip may fail to resolve
    the same set), sorted."""
    from packaging.requirements import InvalidRequirement, Requirement

    installed: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():
        # The first on sys.path wins, except that an installer's .dist-info beats a
        # build's leftover .egg-info in the current folder.
        key = _canonical(dist.metadata["Name"] or "")
        if key not in installed or (_has_record(dist) and not _has_record(installed[key])):
            installed[key] = dist
    pins: dict[str, str] = {}
    for tool in tools:
        if _canonical(tool) in installed:
            dist = installed[_canonical(tool)]
            pins[_canonical(tool)] = f"{dist.metadata['Name']}=={dist.version}"
    todo: list[tuple[str, frozenset[str]]] = [(_canonical(name), frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        key, extras = todo.pop()
        if (key, extras) in seen or key not in installed:
            continue
        seen.add((key, extras))
        dist = installed[key]
        if key != _canonical(name):
            pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        for line in dist.requires or ():
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is not None and not any(
                    req.marker.evaluate({"extra": extra}) for extra in (extras or {""})):
                continue
            todo.append((_canonical(req.name), frozenset(req.extras)))
    return [pins[key] for key in sorted(pins)]


def render_constraints(pins: list[str]) -> str:
    return ("# The versions of newsmirror's dependencies where `newsmirror init` ran: the\n"
            "# workflow installs these from PyPI (requirements.txt reads this file).\n"
            + "".join(f"{pin}\n" for pin in pins))


# -- wheels -------------------------------------------------------------------------------
def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _tags(wheel_text: str) -> str:
    """The py-abi-platform part of a wheel's file name, from its WHEEL file's Tag lines."""
    tags = HeaderParser().parsestr(wheel_text).get_all("Tag") or ["py3-none-any"]
    parts: list[list[str]] = [[], [], []]
    for tag in tags:
        for part, value in zip(parts, tag.strip().split("-")):
            if value not in part:
                part.append(value)
    return "-".join(".".join(part) for part in parts)


def write_wheel(path: Path, files: dict[str, bytes], dist_info: str, *,
                compress: bool = True) -> Path:
    """A wheel at `path` holding `files` (archive path -> bytes), with its RECORD."""
    record = io.StringIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(temp, "w", method) as zf:
        for name in sorted(files):
            data = files[name]
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = method
            zf.writestr(info, data)
            record.write(f"{name},{_digest(data)},{len(data)}\n")
        record.write(f"{dist_info}/RECORD,,\n")
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", _ZIP_TIME)
        info.external_attr = 0o644 << 16
        info.compress_type = method
        zf.writestr(info, record.getvalue())
    temp.replace(path)
    return path


def _dist_info_files(dist: metadata.Distribution) -> tuple[str, dict[str, bytes]]:
    """(the .dist-info folder name, its files as a wheel carries them), from RECORD."""
    entries = [PurePosixPath(str(entry)) for entry in dist.files or ()]
    folders = {e.parts[0] for e in entries if len(e.parts) == 2 and e.parts[0].endswith(".dist-info")
               and e.name == "METADATA"}
    if len(folders) != 1:
        raise InstallError(f"cannot find the metadata of the installed {dist.metadata['Name']}")
    [folder] = folders
    files = {e.as_posix(): Path(str(dist.locate_file(e))).read_bytes() for e in entries
             if e.parts[0] == folder and len(e.parts) == 2 and e.name not in _SKIPPED_METADATA}
    return folder, files


def wheel_of_installed(dist: metadata.Distribution, out_dir: Path, *,
                       compress: bool = True) -> Path:
    """A wheel of an installed distribution, from the files its RECORD lists (scripts
    are left out: pip writes them again from entry_points.txt). For a regular install,
    not an editable one."""
    dist_info, files = _dist_info_files(dist)
    for entry in dist.files or ():
        posix = PurePosixPath(str(entry))
        if posix.parts[0] in ("..", dist_info) or "__pycache__" in posix.parts:
            continue
        files[posix.as_posix()] = Path(str(dist.locate_file(entry))).read_bytes()
    tags = _tags(files.get(f"{dist_info}/WHEEL", b"").decode())
    return write_wheel(out_dir / wheel_name(dist.version, tags, dist.metadata["Name"]), files,
                       dist_info, compress=compress)


def wheel_of_running(out_dir: Path) -> Path:
    """A wheel of the running newsmirror: its package folder as imported (an editable
    install's source folder included, uncommitted edits and all) and its metadata."""
    import newsmirror

    dist = installed_distribution()
    dist_info, files = _dist_info_files(dist)
    if f"{dist_info}/WHEEL" not in files or f"{dist_info}/METADATA" not in files:
        raise InstallError(f"the installed newsmirror has no wheel metadata ({dist_info})")
    package = Path(newsmirror.__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package.parent)
        if path.is_file() and path.suffix in PACKAGE_SUFFIXES and "__pycache__" not in rel.parts \
                and not any(part.startswith(".") for part in rel.parts):
            files[rel.as_posix()] = path.read_bytes()
    wheel_text = files[f"{dist_info}/WHEEL"].decode()
    if _tags(wheel_text) != "py3-none-any":
        raise InstallError(f"the installed newsmirror is not a pure-Python wheel ({_tags(wheel_text)})")
    return write_wheel(out_dir / wheel_name(dist.version), files, dist_info)


def render_requirements(choice: InstallChoice) -> str:
    import textwrap

    why = textwrap.fill(choice.why + ".", width=88, initial_indent="# ", subsequent_indent="# ",
                        break_long_words=False, break_on_hyphens=False)
    return f"""\
# What the GitHub Actions workflows install (written by `newsmirror init`; the pip cache
# is keyed on it). newsmirror itself, exactly the one that ran `init`:
{why}
# Its dependencies come from PyPI, at the versions in the constraints file.
# `newsmirror init --update-install .` points both at the newsmirror you run now.
-c {CONSTRAINTS_FILE}
{choice.requirement}
"""
