"""The one base of newsmirror's own errors. Each carries the exit code (the README's
table) that a command ends with when the error reaches the CLI, which handles them all in
one place (`newsmirror.cli._Group.invoke`): one line per `lines()`, then that code.

The classes stay where their subject is (a `GitError` beside the git wrapper); each
derives from this base and, where callers catch it by its older kind, from that kind
too (`ConfigError` is still a `ValueError`)."""

from __future__ import annotations

FAILED = 1
"""Nothing (or not everything) could be done."""
CONFIG = 2
"""A configuration or usage error."""
ARCHIVE = 3
"""The archive is busy or could not be written, git failed (a push included), gh failed."""
BUG = 4
"""An internal error."""
INTERRUPTED = 130


class NewsmirrorError(Exception):
    """An error newsmirror expects and can describe: it ends a command with one clear
    line and `exit_code`, never a traceback."""

    exit_code: int = FAILED

    def lines(self) -> list[str]:
        """What the CLI prints, one `error:` line each."""
        return [str(self)]
