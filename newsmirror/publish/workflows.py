"""GitHub Actions workflows that newsmirror writes into an archive repository."""

from __future__ import annotations

from newsmirror.archive.paths import CACHE_DIR, CONSTRAINTS_FILE, SHARDS_DIR
from newsmirror.archive.shards import SHARD_TOKEN_ENV
from newsmirror.publish.sitestate import STATE

MIRROR_CONCURRENCY_GROUP = "newsmirror"
"""The hourly mirror's group: one mirror run at a time."""
REQUEST_CONCURRENCY_GROUP = "newsmirror-request-${{ github.event.issue.number }}"
"""One group per issue, never the mirror's: GitHub keeps one running and one pending run
per group and cancels an older pending run when another queues, so a shared group would
drop readers' requests. Runs for different issues go side by side (a push that finds the
remote moved on rebases onto it); the two events of one issue queue one after the other."""
CACHE_KEY = "newsmirror-cache-"
MIRROR_WORKFLOW = "newsmirror.yml"
"""The hourly mirror's file name under .github/workflows/."""
MIRROR_SECRETS = ("NEWSMIRROR_SSH_KEY", "NEWSMIRROR_MIRROR_GITHUB", "NEWSMIRROR_MIRROR_GITLAB",
                  "NEWSMIRROR_MIRROR_CODEBERG", "NEWSMIRROR_MIRROR_GITEA", SHARD_TOKEN_ENV)
"""The secrets the workflows pass to newsmirror: the mirrors' (see publish/mirrors.py)
and the token for the yearly shards' repositories (archive/shards.py)."""

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
  actions: write   # start the mirror workflow, which publishes the site

jobs:
  archive:
    if: >-
      (github.event.action == 'opened' && contains(github.event.issue.labels.*.name, '{label}'))
      || (github.event.action == 'labeled' && github.event.label.name == '{label}')
    # Each issue its own queue, never cancelled and never the mirror's. On the job, not
    # the workflow: events this job skips (other labels) never enter the queue.
    concurrency:
      group: {group}
      cancel-in-progress: false
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 1   # one commit; a push that finds the remote moved on rebases onto it
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
          cache: pip
          cache-dependency-path: |
            {requirements}
            {constraints}
      - name: Install newsmirror
        run: |
          python -m pip install -c {constraints} pip
          python -m pip install -r {requirements}
      # The mirror's newest cache entry, read and never saved (the hourly run keeps the
      # one entry): without it the catalog is rebuilt from every article file, and with
      # yearly shards every closed shard would be cloned to do it.
{restore_cache}
      # What newsmirror needs to handle each issue once and to limit requests per person:
      # the replies on this issue so far, and this person's recent requests.
      - name: Look up earlier replies and requests
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          NUMBER: ${{{{ github.event.issue.number }}}}
          AUTHOR: ${{{{ github.event.issue.user.login }}}}
        run: |
          gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$NUMBER/comments?per_page=100" > replies.json
          since=$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)
          gh api --paginate "repos/$GITHUB_REPOSITORY/issues?creator=$AUTHOR&labels={label}&state=all&since=$since&per_page=100" > recent.json
      # Exits 1 when a page could not be archived and 3 when the push failed: the job goes
      # red, and the reply below is posted all the same (always()).
      - name: Archive the pages named in the issue
        id: archive
        env:  # for [[archive.mirrors]], as in newsmirror.yml
{secret_env}
        run: |
          before=$(git rev-parse HEAD)
          status=0
          newsmirror archive --config {config} --from-issue "$GITHUB_EVENT_PATH" \\
            --replies replies.json --recent recent.json --label {label} --comment-out comment.md || status=$?
          # Pages archived and pushed (some, at least): the site has news.
          if [ "$status" -ne 3 ] && [ "$(git rev-parse HEAD)" != "$before" ]; then echo "committed=true" >> "$GITHUB_OUTPUT"; fi
          exit "$status"
      - name: Reply on the issue
        if: always() && hashFiles('comment.md') != ''
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh issue comment ${{{{ github.event.issue.number }}}} --repo "$GITHUB_REPOSITORY" --body-file comment.md
      - name: Close the issue when every page was archived
        if: steps.archive.outcome == 'success' && hashFiles('comment.md') != ''
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh issue close ${{{{ github.event.issue.number }}}} --repo "$GITHUB_REPOSITORY" --reason completed
      # The reading site is built and published by the mirror workflow: start it now, so
      # that the pages archived here are on the site within minutes, not at the next hour
      # (should this fail, the next hourly run publishes them all the same).
      - name: Publish the reading site
        if: always() && steps.archive.outputs.committed == 'true'
        continue-on-error: true
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: gh workflow run {mirror_workflow} --repo "$GITHUB_REPOSITORY" --ref "$GITHUB_REF_NAME"
"""


def _restore_cache_step() -> str:
    """The step that restores the newest entry of the local cache (both workflows; only
    the mirror's saves one)."""
    return (f"      - name: Restore the local cache\n"
            f"        uses: actions/cache/restore@v4\n"
            f"        with:\n"
            f"          path: {CACHE_DIR}\n"
            f"          key: {CACHE_KEY}${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}\n"
            f"          restore-keys: {CACHE_KEY}")


def _secret_env() -> str:
    """The `env:` lines that hand the mirrors' secrets to newsmirror."""
    return "\n".join(f"          {name}: ${{{{ secrets.{name} }}}}" for name in MIRROR_SECRETS)


def request_workflow_yaml(*, config: str = "newsmirror.toml", python: str = "3.11",
                          requirements: str = "requirements.txt", label: str = "archive",
                          group: str = REQUEST_CONCURRENCY_GROUP,
                          constraints: str = CONSTRAINTS_FILE) -> str:
    """.github/workflows/archive-request.yml: on an issue opened with, or given, the
    `label`, look up the issue's replies and its author's recent requests, run
    `newsmirror archive --from-issue` (which skips an issue already answered and applies
    the [requests] limits), post its reply with `gh issue comment` and close the issue
    when every page was archived. `requirements` is the file that installs newsmirror
    (with `constraints`, the pip cache key)."""
    return _REQUEST_WORKFLOW.format(config=config, python=python, requirements=requirements,
                                    label=label, group=group, constraints=constraints,
                                    secret_env=_secret_env(), mirror_workflow=MIRROR_WORKFLOW,
                                    restore_cache=_restore_cache_step())


def mirror_workflow_yaml(*, config: str = "newsmirror.toml", requirements: str = "requirements.txt",
                         minute: int = 17, python: str = "3.11",
                         group: str = MIRROR_CONCURRENCY_GROUP,
                         constraints: str = CONSTRAINTS_FILE) -> str:
    """.github/workflows/newsmirror.yml: the mirror every hour at `minute`, never two runs
    at once. It installs from `requirements` (pinned by `constraints`) and keeps one
    entry of the local cache: it restores the newest, saves its own and deletes the
    older ones with `gh cache delete`. After the run, `newsmirror sources issues` keeps one
issue per unhealthy source on the repository. Unless the published site is built from
the archive as it is, it builds the reading site, pushes it as the branch `site` to the
repository and every mirror, and deploys it to GitHub Pages (the job `pages`)."""
    cache_key = CACHE_KEY
    site_state = STATE
    secret_env = _secret_env()
    mirror_workflow = MIRROR_WORKFLOW
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
  actions: write    # the keepalive step and deleting old cache entries
  issues: write     # one issue per unhealthy source (label source-health)

jobs:
  mirror:
    runs-on: ubuntu-latest
    timeout-minutes: 50
    outputs:
      site: ${{{{ steps.site.outputs.published }}}}
    steps:
      # One commit, not the history: an hour costs the same at any archive size. A run
      # that finds the remote moved on fetches just the new commits and rebases onto them;
      # a mirror that lacks older history (new, or far behind) deepens the clone once.
      - uses: actions/checkout@v4
        with:
          fetch-depth: 1

      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
          cache: pip
          cache-dependency-path: |
            {requirements}
            {constraints}

      # newsmirror exactly as `newsmirror init` found it (see requirements.txt), its
      # dependencies from PyPI at the versions in {constraints}, with the
      # pip that installed them there.
      - name: Install newsmirror
        run: |
          python -m pip install -c {constraints} pip
          python -m pip install -r {requirements}

      # The local catalog and page cache: rebuilt from the article files when missing,
      # so this only saves time. One entry is kept: this restores the newest, the run
      # saves its own under a new key and deletes the older ones. With yearly shards it
      # holds the open shard's clone too (see the step before saving).
{_restore_cache_step()}

      # Credentials for [[archive.mirrors]] on other hosts (see "Mirrors on other hosts"
      # in newsmirror's README): a deploy key for SSH addresses, and per kind of host an
      # address with a token in it, for mirrors that name it in `url_env`; and with
      # [archive] rotate = "yearly", {SHARD_TOKEN_ENV} for the <name>-<YEAR> repositories,
      # which this workflow's own token cannot push. Secrets that are not set are empty,
      # and only the pushes that need them fail.
      - name: Mirror
        id: mirror
        env:
{secret_env}
        run: newsmirror run --config {config} --archive .

      # After every run (a red one too: the sources that worked were archived), unless
      # the site the repository serves is built from the archive as it is (the local
      # cache remembers the last publication): build the reading site and push it as the
      # branch `site` (one commit, no history) to this repository and every mirror, for
      # hosts that serve a site from a branch; the job below deploys the same folder to
      # GitHub Pages. A publication that failed, or articles archived on request, go out
      # at the next run.
      - name: Build and publish the reading site
        id: site
        if: always() && steps.mirror.outcome != 'skipped'
        env:
{secret_env}
        run: |
          status=0
          newsmirror site --publish --if-changed --config {config} --archive . --out "$RUNNER_TEMP/site" || status=$?
          # The build's state is kept in the local cache (the next runner starts from it),
          # never on GitHub Pages.
          rm -f "$RUNNER_TEMP/site/{site_state}"*
          # 1: some articles could not be built (named above); the rest was published.
          if [ "$status" -le 1 ] && [ -f "$RUNNER_TEMP/site/index.html" ]; then echo "published=true" >> "$GITHUB_OUTPUT"; fi
          exit "$status"

      - name: Upload the site for GitHub Pages
        if: always() && steps.site.outputs.published == 'true'
        uses: actions/upload-pages-artifact@v3
        with:
          path: ${{{{ runner.temp }}}}/site

      # The yearly shards' clones: only this year's (China time, as newsmirror's
      # archive/shards.py run_year counts) goes into the cache, which restores it several
      # times faster than a shallow clone makes it (bench/RESULTS-shard-clone.md); a
      # closed shard's is left out, so the entry, saved every hour, does not grow by a
      # clone a year (a run clones a closed shard only when the catalog lacks it).
      - name: Leave the closed shards' clones out of the cache
        if: always()
        run: |
          open=$(TZ=Asia/Shanghai date +%Y)
          for clone in {SHARDS_DIR}/*/; do
            if [ -d "$clone" ] && [ "$(basename "$clone")" != "$open" ]; then rm -rf "$clone"; fi
          done

      - name: Save the local cache
        id: save-cache
        if: always()
        uses: actions/cache/save@v4
        with:
          path: {CACHE_DIR}
          key: {cache_key}${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}

      # One issue per source that is failing, stale or dead, labelled source-health,
      # never two for one source; closed with a comment when the source recovers. Also
      # after a red run: a run in which every source failed is when it matters most.
      - name: Report source health in issues
        if: always()
        env:
          GH_TOKEN: ${{{{ github.token }}}}
        run: newsmirror sources issues --config {config} --archive . --repo "$GITHUB_REPOSITORY"

      # Caches count against the repository's 10 GB; older entries are of no further use.
      - name: Delete older cache entries
        if: always() && steps.save-cache.outcome == 'success'
        continue-on-error: true
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          KEEP: {cache_key}${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}
        run: |
          gh cache list --repo "$GITHUB_REPOSITORY" --key {cache_key} --limit 100 --json key --jq '.[].key' |
            while read -r key; do
              if [ "$key" != "$KEEP" ]; then gh cache delete "$key" --repo "$GITHUB_REPOSITORY"; fi
            done

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
        run: gh api --method PUT "repos/${{{{ github.repository }}}}/actions/workflows/{mirror_workflow}/enable"

  # The site the mirror job built, on GitHub Pages (Settings → Pages → Source: "GitHub
  # Actions"), with the official actions; only these steps get the Pages permissions.
  pages:
    needs: mirror
    if: always() && needs.mirror.outputs.site == 'true'
    runs-on: ubuntu-latest
    timeout-minutes: 20
    permissions:
      pages: write      # deploy to GitHub Pages
      id-token: write   # which the deployment proves it comes from this workflow with
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - uses: actions/configure-pages@v5
      - name: Deploy to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v4
"""
