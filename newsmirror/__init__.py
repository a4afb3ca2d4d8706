"""newsmirror: keep a censorship-resistant git mirror of news feeds.

The package is laid out by what the data goes through:
sources -> fetch -> parse -> content -> archive -> publish, with `pipeline`
tying one run together and `cli` exposing it.
"""

__version__ = "0.1.0"
