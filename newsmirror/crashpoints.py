"""Named points in a run where a crash test can stop the process, to prove that a crash
there loses nothing.

A run passes these points in its own order, whatever the machine's speed. A test names one
in the environment: ``NEWSMIRROR_STOP_AT=NAME`` (or ``NAME#N``: the Nth time it is passed)
and ``NEWSMIRROR_STOP_FILE=PATH``. On reaching it the process writes PATH and stops
itself with SIGSTOP (its whole process group when it leads one, so a git child it is
waiting for stops mid-work too); the test then kills the process or the group. Without the
variables, which is always outside the tests, passing a point costs one comparison.

``NEWSMIRROR_FAULT_AT=NAME#N`` instead raises :class:`InjectedFault` the Nth time the
point is passed (when no stop is asked for): an internal error the test put there, to prove
that the guard around that step costs the one item (or page) it was working on, and nothing
else.
"""

from __future__ import annotations

import os
import signal

_FAULT = os.environ.get("NEWSMIRROR_FAULT_AT") or None
_TARGET = os.environ.get("NEWSMIRROR_STOP_AT") or _FAULT
_name, _, _nth = (_TARGET or "").partition("#")
_remaining = int(_nth or 1)


class InjectedFault(RuntimeError):
    """The internal error a test asked for with ``NEWSMIRROR_FAULT_AT``."""


def reached(name: str) -> None:
    """The run has reached the point `name`."""
    global _remaining
    if _TARGET is None or name != _name:
        return
    _remaining -= 1
    if _remaining:
        return
    if _FAULT and _TARGET == _FAULT:
        raise InjectedFault(f"the fault a test injected at {_FAULT}")
    stop_file = os.environ.get("NEWSMIRROR_STOP_FILE")
    if stop_file:
        tmp = f"{stop_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {_TARGET}\n")
        os.replace(tmp, stop_file)
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpgrp(), signal.SIGSTOP)
    else:
        os.kill(os.getpid(), signal.SIGSTOP)
