"""How a benchmark fails: a command line it cannot run, or a boot that did not
run as it needs. tools/bench reports either in one message (see cli.py)."""

from __future__ import annotations


class BenchUsageError(Exception):
    """The command line asks for something the benchmark cannot do; the message says what."""


class BenchError(Exception):
    """A boot did not run as the benchmark needs it to; the message says how."""
