"""One error base: every exception class newsmirror defines derives from NewsmirrorError
and carries an exit code of the README's table, so the CLI handles them in one place."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import newsmirror
from newsmirror.crashpoints import InjectedFault
from newsmirror.errors import NewsmirrorError

EXIT_CODES = {1, 2, 3, 4, 130}


def defined_exceptions() -> list[type[BaseException]]:
    found = []
    for module in pkgutil.walk_packages(newsmirror.__path__, "newsmirror."):
        if module.name.startswith("newsmirror.demo.") or module.name.endswith("__main__"):
            continue
        loaded = importlib.import_module(module.name)
        for _name, value in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.name:
                found.append(value)
    return found


def test_every_error_class_derives_from_the_base_and_carries_an_exit_code():
    classes = defined_exceptions()
    assert len(classes) >= 15
    # An injected fault stands for a bug (an internal error, exit 4), on purpose.
    strays = [c.__qualname__ for c in classes
              if not issubclass(c, NewsmirrorError) and c is not InjectedFault]
    assert strays == []
    assert all(c.exit_code in EXIT_CODES for c in classes if issubclass(c, NewsmirrorError))


def test_errors_keep_the_kind_callers_catch_them_by():
    from newsmirror.config import ConfigError
    from newsmirror.archive.git import GitError

    assert issubclass(ConfigError, ValueError) and ConfigError.exit_code == 2
    assert issubclass(GitError, RuntimeError) and GitError.exit_code == 3
    full = GitError("git commit failed: fatal: unable to write: No space left on device")
    assert full.lines()[0].startswith("disk full: ") and full.lines()[1] == str(full)
