"""JUnit XML, one file per release (`junit-<release>.xml`), for CI test UIs.

Contract: one `<testcase>` per cell (classname `trt-matrix.<release>.<check>`, name the cell id).
fail -> `<failure>`; crash, timeout, infra_error -> `<error>`; skip, na -> `<skipped>` with the
reason; xfail -> `<skipped>` naming the expectation and citation; xpass -> `<failure>` "expected to
fail but passed". Log lines go in the element text and `<system-out>`. ElementTree escapes markup,
and characters XML 1.0 cannot carry (terminal escapes, NUL) are replaced by `\\xNN`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Sequence

from matrix.suite.schema import CellResult

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _log(result: CellResult) -> str:
    return "\n".join(f"[{line.severity}] {line.text}" for line in result.log)


def _expectation(result: CellResult) -> str:
    exp = result.expectation or {}
    return f"expectation {exp.get('id', '?')}: {exp.get('reason', '')} ({exp.get('citation', 'no citation')})"


def testcase(result: CellResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": clean(f"trt-matrix.{result.consumer}.{result.check}"),
            "name": clean(result.cell_id),
            "time": f"{result.duration_s:.3f}",
        },
    )
    status, reason, log = result.status, result.reason, _log(result)
    child: ET.Element | None = None
    if status == "fail":
        child = ET.SubElement(case, "failure", {"type": "fail", "message": clean(reason or "failed")})
    elif status in ("crash", "timeout", "infra_error"):
        detail = f"{status}" + (f" ({result.signal})" if result.signal else "") + (f": {reason}" if reason else "")
        child = ET.SubElement(case, "error", {"type": status, "message": clean(detail)})
    elif status == "xpass":
        message = f"expected to fail but passed; {_expectation(result)}"
        child = ET.SubElement(case, "failure", {"type": "xpass", "message": clean(message)})
    elif status == "xfail":
        message = f"expected failure: {reason}; {_expectation(result)}"
        child = ET.SubElement(case, "skipped", {"type": "xfail", "message": clean(message)})
    elif status in ("skip", "na"):
        child = ET.SubElement(case, "skipped", {"type": status, "message": clean(f"{status}: {reason}")})
    if child is not None and log:
        child.text = clean(log)
    if log:
        ET.SubElement(case, "system-out").text = clean(log)
    return case


def render(release: str, results: Sequence[CellResult], banner: str = "") -> bytes:
    counts = Counter(r.status for r in results)
    suite = ET.Element(
        "testsuite",
        {
            "name": clean(f"trt-matrix.{release}"),
            "tests": str(len(results)),
            "failures": str(counts["fail"] + counts["xpass"]),
            "errors": str(counts["crash"] + counts["timeout"] + counts["infra_error"]),
            "skipped": str(counts["skip"] + counts["na"] + counts["xfail"]),
            "time": f"{sum(r.duration_s for r in results):.3f}",
        },
    )
    if banner:  # a self-test says so before its first test case, where CI UIs show suite properties
        suite.set("name", clean(f"trt-matrix.{release} (self-test of the harness, not TensorRT)"))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "self_test", "value": clean(banner)})
    for result in results:
        suite.append(testcase(result))
    root = ET.Element("testsuites", {"name": "trt-matrix self-test" if banner else "trt-matrix"})
    if banner:
        root.append(ET.Comment(" " + clean(banner).replace("--", "- -") + " "))
    root.append(suite)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def by_release(results: Sequence[CellResult]) -> dict[str, list[CellResult]]:
    """Records grouped by the release that ran them (the consumer), in input order."""
    out: dict[str, list[CellResult]] = defaultdict(list)
    for r in results:
        out[r.consumer].append(r)
    return dict(out)
