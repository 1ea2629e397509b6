"""JUnit XML: characters XML cannot carry are made visible instead of breaking the file."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from matrix.report import junit
from matrix.suite.schema import LogLine
from tests.unit.report.sample_runs import three_release_run


def test_control_characters_in_logs_do_not_break_the_xml() -> None:
    record = three_release_run()[-1].replace(status="fail", log=(LogLine("stderr", "\x1b[31mred\x1b[0m \x00"),))
    root = ET.fromstring(junit.render("trt11", [record]))
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None and failure.text == "[stderr] \\x1b[31mred\\x1b[0m \\x00"


def test_counts_on_the_suite() -> None:
    records = [r for r in three_release_run() if r.consumer == "trt11"]
    suite = ET.fromstring(junit.render("trt11", records)).find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(records)) == "140"
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    assert suite.get("skipped") == "139"
