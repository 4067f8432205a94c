"""Start-up: process start → My Day painted on the book, next to a bare PySide6 window.

Both run as fresh processes (offscreen), alternately, several times; each reports the
time since its own process started (Linux /proc, so interpreter start counts) when its
first page is on screen. The app's probe is ``RELBOOK_STARTUP_REPORT=1`` (``ui.main``).
Peak RSS is the child's ``ru_maxrss``, reported by a small launcher process (see
``run_probe``). Children run from compiled bytecode
(``qt_env``), like an installed app.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.core import Results, Row, at_most, both, median

STARTUP_LIMIT_S = 1.0
BARE_RATIO = 4.0
RSS_LIMIT_MB = 400.0

BARE_WINDOW = r"""
import os, sys, time
def since_start():
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTableWidget, QVBoxLayout, QWidget
app = QApplication(sys.argv[:1])
window = QMainWindow()
body = QWidget(); layout = QVBoxLayout(body)
layout.addWidget(QLabel("Good morning")); table = QTableWidget(20, 4); layout.addWidget(table)
window.setCentralWidget(body); window.resize(1200, 800)
class Painted(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"painted after {since_start():.3f} s", flush=True)
            QTimer.singleShot(0, app.quit)
            obj.removeEventFilter(self)
        return False
watch = Painted(); window.installEventFilter(watch)
window.show()
app.exec()
"""

_SECONDS = re.compile(r"after ([0-9.]+) s")
_PEAK = re.compile(r"^peak rss (\d+) kB$", re.MULTILINE)
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'peak rss {peak} kB', flush=True)\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class Probe:
    seconds: float | None
    peak_rss_mb: float
    output: str


def run_probe(args: list[str], env: dict[str, str], timeout: float = 120) -> Probe:
    """Run a child to completion; its reported seconds and peak RSS."""
    # Through a small launcher: Linux counts the memory a child had when it called exec
    # in its peak RSS, and a child of this (big) process starts as a copy of it. The
    # launcher's own child starts from the launcher (~10 MB) and its peak is its own.
    process = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        timeout=timeout,
        check=False,
    )
    output = process.stdout.decode(errors="replace")
    match = _SECONDS.search(output)
    peak = _PEAK.search(output)
    return Probe(
        float(match.group(1)) if match else None,
        int(peak.group(1)) / 1024 if peak else math.nan,
        output,
    )


def qt_env(home: Path) -> dict[str, str]:
    """A child's environment: offscreen, its own Relbook home, and compiled bytecode.

    An installed app runs from compiled bytecode (pip and PyInstaller compile it); a
    checkout with PYTHONDONTWRITEBYTECODE would compile every module at each start. The
    children write their bytecode under ``home`` instead (the warm-up run compiles it).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        RELBOOK_HOME=str(home),
        PYTHONPYCACHEPREFIX=str(home / "pycache"),
        QT_LOGGING_RULES="*.debug=false;qt.qpa.*=false",
    )
    env.pop("RELBOOK_BOOK", None)
    return env


def _probes(book: Path, runs: int) -> tuple[list[Probe], list[Probe]]:
    home = Path(tempfile.mkdtemp(prefix="relbook-bench-home-"))
    try:
        env = qt_env(home)
        app_env = {**env, "RELBOOK_STARTUP_REPORT": "1"}
        app_args = [sys.executable, "-m", "relbook", "--book", str(book)]
        bare_args = [sys.executable, "-c", BARE_WINDOW]
        run_probe(bare_args, env)  # warm: the page cache for Qt's libraries, bytecode
        run_probe(app_args, app_env)
        app: list[Probe] = []
        bare: list[Probe] = []
        for _ in range(runs):
            app.append(run_probe(app_args, app_env))
            bare.append(run_probe(bare_args, env))
        return app, bare
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(book: Path, results: Results, *, runs: int) -> None:
    app, bare = _probes(book, runs)
    app_s = [p.seconds for p in app if p.seconds is not None]
    bare_s = [p.seconds for p in bare if p.seconds is not None]
    if not app_s or not bare_s:
        failed = (app if not app_s else bare)[-1].output[-600:]
        results.skip("startup", "startup.myday", "Start-up to My Day painted",
                     f"a probe reported no time: {failed!r}")  # fmt: skip
        results.skip("startup", "startup.rss", "Peak RSS at start-up", "no start-up run")
        return
    seconds, bare_seconds = median(app_s), median(bare_s)
    results.add(
        Row(
            "startup",
            "startup.myday",
            "Start-up: process start → My Day painted (offscreen)",
            seconds,
            "s",
            baseline=bare_seconds,
            target=f"≤ {STARTUP_LIMIT_S:g} s, ≤ {BARE_RATIO:g}× bare window",
            passed=both(
                at_most(seconds, STARTUP_LIMIT_S), at_most(seconds / bare_seconds, BARE_RATIO)
            ),
            note="raw: a bare PySide6 window with a table, same run",
        )
    )
    rss = max(p.peak_rss_mb for p in app)
    results.add(
        Row(
            "startup",
            "startup.rss",
            "Peak RSS: start-up to My Day",
            rss,
            "MB",
            baseline=max(p.peak_rss_mb for p in bare),
            target=f"≤ {RSS_LIMIT_MB:g} MB",
            passed=at_most(rss, RSS_LIMIT_MB),
        )
    )
    results.details["startup"] = {
        "app_seconds": app_s,
        "bare_seconds": bare_s,
        "app_rss_mb": [p.peak_rss_mb for p in app],
        "bare_rss_mb": [p.peak_rss_mb for p in bare],
    }
