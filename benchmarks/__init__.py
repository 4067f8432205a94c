"""Relbook's benchmark (issue 7): the app against raw SQLite on the same book, same run.

``python -m benchmarks.run`` (``make bench``) builds — once, cached under
``benchmarks/.cache/`` — the demo generator's benchmark book, measures search, timelines,
insight lists, ingest (Maildir and IMAP), start-up, lists, UI stalls and size, prints a
table with PASS/FAIL against the targets and writes it as JSON to ``benchmarks/results/``.
Every figure that can have one sits next to a raw baseline measured in the same run: the
machines are shared and noisy, the ratio is what travels.
"""
