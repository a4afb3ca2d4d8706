"""Telling the operator: a POST to the `[alerts]` webhook when a source or a mirror changes
state (`webhook.py`), and one GitHub issue per unhealthy source (`issues.py`). Both read the
state the runs left (sources/health.py, publish/mirrors.py); neither changes an archive."""
