"""GitHub Actions workflows that newsmirror writes into an archive repository."""

from __future__ import annotations

MIRROR_CONCURRENCY_GROUP = "newsmirror"
"""Shared with the hourly mirror workflow: one job at a time writes the archive."""

_REQUEST_WORKFLOW = """\
# Archive web pages on request: open an issue labelled "archive" with the addresses in
# its body; newsmirror archives them, replies with links and closes the issue.
# Written by newsmirror.
name: archive on request

on:
  issues:
    types: [opened, labeled]

permissions:
  contents: write
  issues: write

concurrency:
  group: {group}
  cancel-in-progress: false

jobs:
  archive:
    if: >-
      (github.event.action == 'opened' && contains(github.event.issue.labels.*.name, '{label}'))
      || (github.event.action == 'labeled' && github.event.label.name == '{label}')
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
          cache: pip
          cache-dependency-path: {requirements}
      - name: Install newsmirror
        run: python -m pip install -r {requirements}
      - name: Archive the pages named in the issue
        id: archive
        continue-on-error: true
        run: newsmirror archive --config {config} --from-issue "$GITHUB_EVENT_PATH" --comment-out comment.md
      - name: Reply on the issue
        if: always() && hashFiles('comment.md') != ''
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh issue comment ${{{{ github.event.issue.number }}}} --repo "$GITHUB_REPOSITORY" --body-file comment.md
      - name: Close the issue when every page was archived
        if: steps.archive.outcome == 'success'
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh issue close ${{{{ github.event.issue.number }}}} --repo "$GITHUB_REPOSITORY" --reason completed
"""


def request_workflow_yaml(*, config: str = "newsmirror.toml", python: str = "3.11",
                          requirements: str = "requirements.txt", label: str = "archive",
                          group: str = MIRROR_CONCURRENCY_GROUP) -> str:
    """.github/workflows/archive-request.yml: on an issue opened with, or given, the
    `label`, run `newsmirror archive --from-issue`, post its reply with `gh issue comment`
    and close the issue when every page was archived. `requirements` is the file that
    installs newsmirror (also the pip cache key)."""
    return _REQUEST_WORKFLOW.format(config=config, python=python, requirements=requirements,
                                    label=label, group=group)


def mirror_workflow_yaml(*, config: str = "newsmirror.toml", requirements: str = "requirements.txt",
                         minute: int = 17, python: str = "3.11",
                         group: str = MIRROR_CONCURRENCY_GROUP) -> str:
    """.github/workflows/newsmirror.yml: the mirror every hour at `minute`, never two runs
    at once (the concurrency `group` is shared with the request workflow)."""
    return f"""\
# Runs newsmirror every hour (written by `newsmirror init`). It commits only when
# something changed and pushes by itself.
name: newsmirror

on:
  schedule:
    # Minute {minute}, not :00: GitHub delays or drops many runs at the top of the hour.
    - cron: "{minute} * * * *"
  workflow_dispatch:

# One run at a time: a run that starts while another is going waits for it.
concurrency:
  group: {group}
  cancel-in-progress: false

permissions:
  contents: write   # commit and push the archive
  actions: write    # the keepalive step below

jobs:
  mirror:
    runs-on: ubuntu-latest
    timeout-minutes: 50
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0   # full history: a run rebases onto the remote before pushing

      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
          cache: pip
          cache-dependency-path: {requirements}

      - run: pip install -r {requirements}

      # The local catalog and page cache: rebuilt from the article files when missing,
      # so this only saves time. Each run saves a new entry; old ones expire.
      - uses: actions/cache@v4
        with:
          path: .newsmirror/cache
          key: newsmirror-cache-${{{{ github.run_id }}}}
          restore-keys: newsmirror-cache-

      - name: Mirror
        run: newsmirror run --config {config} --archive .

      # GitHub disables scheduled workflows of a public repository after 60 days without
      # repository activity. Runs that archive news commit, which is activity; for quiet
      # spells this re-enables the workflow through the API (PUT .../workflows/ID/enable,
      # hence `actions: write`), as the keepalive-workflow action does, with no
      # third-party code. Should the schedule ever stop anyway, enable the workflow again
      # in the repository's Actions tab.
      - name: Keep the schedule alive
        if: always()
        continue-on-error: true
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh api --method PUT "repos/${{{{ github.repository }}}}/actions/workflows/newsmirror.yml/enable"
"""
