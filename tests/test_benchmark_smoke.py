"""The benchmark runs end to end at a tiny scale (issue 7): ``make bench`` is not part of
``make test``, but this is. It checks that every measurement group produces a figure and
that the result file holds the table — never how fast anything was (speed lives in the
benchmark itself)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.core import MEASUREMENTS

from tests.conftest import require
from tests.integration.servers import DOVECOT

ROOT = Path(__file__).resolve().parent.parent

TINY = [
    "--scale", "0.05", "--queries", "2", "--repeat", "1", "--entities", "2", "--runs", "1",
    "--messages", "30", "--imap-messages", "20", "--sync-messages", "30", "--typed", "1",
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.integration
def test_benchmark_runs_every_measurement_at_a_tiny_scale(tmp_path: Path) -> None:
    require(DOVECOT is not None, "Dovecot (apt-get install dovecot-imapd) for the IMAP rows")
    results = tmp_path / "results"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", *TINY, "--cache", str(tmp_path / "cache"),
         "--results", str(results), "--work", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    saved = list(results.glob("*.json"))
    assert len(saved) == 1, output[-4000:]
    data = json.loads(saved[0].read_text())

    rows = data["rows"]
    measured = {row["group"] for row in rows if not row["skipped"] and row["value"] is not None}
    failed = {row["key"]: row["note"] for row in rows if row["skipped"]}
    assert measured == set(MEASUREMENTS), f"groups without a figure: {failed}"
    # Every row with a target has a verdict, and the printed table shows each row.
    for row in rows:
        if row["target"]:
            assert row["passed"] in (True, False), row
        assert row["label"] in output
    assert data["markdown"].count("\n") == len(rows) + 1
    assert data["details"]["book"]["rows"]["interaction"] > 0
    assert data["machine"]["cores"] >= 1
