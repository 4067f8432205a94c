"""The one Qt import point's workaround for PySide6's per-import source scan."""

from __future__ import annotations

import json
import sys

import pytest

import relbook.ui.qt
import relbook.ui.widgets


@pytest.mark.parametrize(
    ("module", "says_pyside"),
    [(relbook.ui.qt, True), (relbook.ui.widgets, False), (json, False), (sys, False)],
)
def test_the_cheaper_scan_answers_as_pysides_own(module: object, says_pyside: bool) -> None:
    feature = sys.modules["shibokensupport.feature"]
    ours = feature._mod_uses_pyside
    assert getattr(ours, "relbook", False), "relbook.ui.qt did not install its scan"
    assert ours(module) is says_pyside
    assert ours.upstream(module) is says_pyside
