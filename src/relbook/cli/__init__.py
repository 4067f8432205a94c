"""The command line: one module per sub-command, each with ``register`` and ``run``.

Exit codes (documented in the README):
  0 done · 1 a bug (see the log) · 2 bad usage · 3 the user's or environment's problem
  (the message says what and how to fix it) · 4 done, but some items were reported and
  skipped · 130 interrupted · 141 the output pipe was closed (``| head``).
"""

from __future__ import annotations

# Modules under relbook.cli that provide a sub-command, in --help order.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "importing",
    "sync",
    "accounts",
    "team",
    "exporting",
    "search",
    "backup",
    "doctor",
    "screenshot",
)

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_USER = 3
EXIT_PARTIAL = 4
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141
