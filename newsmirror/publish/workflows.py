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
