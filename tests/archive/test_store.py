"""The store: one archive opened for one command, its git repository and its catalog."""

from __future__ import annotations

from pathlib import Path

from newsmirror.archive.store import open_store


def test_a_commit_is_recorded_in_the_catalog_by_the_store_itself(tmp_path: Path):
    with open_store(tmp_path) as store:
        store.write("lists/x.md", b"x\n")
        commit = store.commit(["lists/x.md"], "Add x\n")
        assert commit and commit == store.repo.head()
        assert store.catalog.get_meta("head") == commit
        assert store.commit(["lists/x.md"], "Nothing\n") is None  # nothing changed
        assert store.catalog.get_meta("head") == commit
    with open_store(tmp_path) as store:  # the next opening compares from that commit
        assert store.catalog.get_meta("head") == commit and store.catalog.rebuilt == {}


def test_every_commit_message_ends_with_the_version_that_wrote_it():
    from newsmirror import __version__
    from newsmirror.archive.store import commit_message

    assert commit_message("Record source health of voa") == \
        f"Record source health of voa\n\nnewsmirror {__version__}\n"
    assert commit_message("Archive 2 requested pages", ["a -> b", "c -> d"]) == \
        f"Archive 2 requested pages\n\na -> b\nc -> d\n\nnewsmirror {__version__}\n"
