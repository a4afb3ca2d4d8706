"""newsmirror: keep a censorship-resistant git mirror of news feeds.

The package is laid out by what the data goes through:
sources -> fetch -> parse -> content -> archive -> publish, with `jobs` (the mirror
run, watch, requests) driving those stages and `cli` exposing the jobs. Each layer imports
only the ones before it.
"""

__version__ = "0.1.0"
