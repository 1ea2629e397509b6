"""`trt-matrix report`: every output from real records, partial inputs, escaping, and bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from matrix import catalogue
from matrix.cli import main
from matrix.report.inputs import read_results_json
from matrix.suite.schema import LogLine
from tests.unit.report.sample_runs import three_release_run, write_run

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
MARKDOWN = "**bold** [link](https://evil.example) | pipe ` tick"


class Tags(HTMLParser):
    """Elements and text of an HTML document, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @classmethod
    def of(cls, html: str) -> Tags:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser

    def names(self) -> list[str]:
        return [t for t, _ in self.tags]

    def joined(self) -> str:
        return "".join(self.text)


def run_report(tmp_path: Path, *extra: str) -> Path:
    results = write_run(three_release_run(), tmp_path / "results")
    out = tmp_path / "report"
    assert main(["report", str(results), "--out", str(out), *extra]) == 0
    return out


def test_report_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_report(tmp_path)
    stdout = capsys.readouterr().out
    assert "XPASS: 1 cell(s)" in stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "README.md",
        "grid-deserialize.svg",
        "grid-exchange.svg",
        "grid-int8-cache.svg",
        "index.html",
        "junit-host.xml",
        "junit-trt10.xml",
        "junit-trt11.xml",
        "junit-trt86.xml",
        "results.json",
    ]
    records, summary = read_results_json(out / "results.json")
    assert len(records) == summary["cells"] == len(three_release_run())
    assert summary["counts"] == {
        "pass": 190,
        "fail": 2,
        "xfail": 33,  # 6 backward version-compatible refusals (trt10 -> trt86) are documented
        "xpass": 1,
        "skip": 173,
        "na": 23,
        "crash": 1,
        "timeout": 1,
        "infra_error": 1,
    }
    assert summary["xpass"] == ["deserialize:trt86>trt10:yolov5s:fp16:hc"]
    assert [r["release"] for r in summary["not_run"]["releases"]] == [
        r for r in catalogue.load().ids if r not in ("trt86", "trt10", "trt11")
    ]
    assert summary["synthetic_weights"] == ["scrfd-500m", "yolov5s"]
    html = (out / "index.html").read_text(encoding="utf-8")
    for needle in (
        "1 XPASS: known issues that no longer hold",
        "nightly-2026-11-20",
        "NVIDIA H100 80GB HBM3",
        "Synthetic weights",
        "https://github.com/wang-xinyu/tensorrtx/issues/1456",
        "Version tag does not match",
        "trt84</b>: no results for this release",
    ):
        assert needle in html, needle
    assert "http://" not in html.replace("http://www.w3.org", "") and "<link" not in html  # no external assets
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[2] == "> [!CAUTION]" and "**‼ 1 XPASS**" in readme
    assert "| trt86 (8.6.1) |" in readme and "☠1" in readme


def test_junit_has_one_testcase_per_cell_with_the_right_elements(tmp_path: Path) -> None:
    out = run_report(tmp_path)
    results = {r.cell_id: r for r in read_results_json(out / "results.json")[0]}
    seen = {}
    for path in out.glob("junit-*.xml"):
        for case in ET.parse(path).getroot().iter("testcase"):
            kids = [k for k in case if k.tag != "system-out"]
            seen[case.get("name")] = (kids[0].tag, kids[0].get("type"), kids[0].get("message")) if kids else None
    assert set(seen) == set(results)
    assert seen["deserialize:trt86>trt10:yolov5s:fp16:hc"] == (
        "failure",
        "xpass",
        "expected to fail but passed; expectation plan-refused-by-other-release: "
        + results["deserialize:trt86>trt10:yolov5s:fp16:hc"].expectation["reason"]  # type: ignore[index]
        + " (https://github.com/NVIDIA/TensorRT/issues/2072)",
    )
    xfail = seen["int8:trt86>trt86:retinaface-mnet:int8:decode-plugin"]
    assert xfail is not None and xfail[:2] == ("skipped", "xfail") and "tensorrtx/issues/1456" in str(xfail[2])
    assert seen["execute:trt86>trt86:scrfd-500m:fp16:thread-no-context"][:2] == ("error", "crash")  # type: ignore[index]
    assert seen["execute:trt10>trt10:yolov5s:fp16:thread-context"][:2] == ("error", "timeout")  # type: ignore[index]
    assert seen["exchange:trt86>trt10:-:-:artifacts"][:2] == ("error", "infra_error")  # type: ignore[index]
    assert seen["serialize:trt10>trt10:yolov5s:fp16:legacy"][:2] == ("skipped", "na")  # type: ignore[index]
    assert seen["model:host>host:yolov5s:fp32:onnx"] is None
    suite = ET.parse(out / "junit-trt10.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "3" and suite.get("errors") == "2"


def test_markup_in_records_is_shown_as_text_everywhere(tmp_path: Path) -> None:
    records = three_release_run()
    target = "execute:trt10>trt10:retinaface-mnet:fp16:execute_async_v3"
    planted = [
        r.replace(
            reason=f"reason {SCRIPT}",
            log=(LogLine("error", f"log {SCRIPT} {IMG} {MARKDOWN}"),),
            measurements={"latency_ms": 1.5, "note": IMG},
            bom={**r.bom, "gpu": SCRIPT},
        )
        if r.cell_id == target
        else r
        for r in records
    ]
    results = write_run(planted, tmp_path / "results")
    out = tmp_path / "report"
    assert main(["report", str(results), "--out", str(out), "--no-expectations"]) == 0

    html = Tags.of((out / "index.html").read_text(encoding="utf-8"))
    assert html.names().count("script") == 1  # the page's own filter script
    assert "img" not in html.names()
    assert not [a for _, attrs in html.tags for a in attrs if a.startswith("on")]
    assert SCRIPT in html.joined() and IMG in html.joined() and MARKDOWN in html.joined()

    md_html = (
        MarkdownIt("commonmark", {"html": True}).enable("table").render((out / "README.md").read_text(encoding="utf-8"))
    )
    rendered = Tags.of(md_html)
    assert "script" not in rendered.names() and "img" not in [
        t for t, a in rendered.tags if not str(a.get("src", "")).endswith(".svg")
    ]
    assert f"log {SCRIPT} {IMG} {MARKDOWN}" in rendered.joined()
    assert f"reason {SCRIPT}" in rendered.joined()
    assert not [a for t, a in rendered.tags if t == "a" and "evil" in str(a.get("href"))]

    tree = ET.parse(out / "junit-trt10.xml")
    assert not [e for e in tree.iter() if e.tag in ("script", "img")]
    case = next(c for c in tree.iter("testcase") if c.get("name") == target)
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == f"reason {SCRIPT}"
    assert f"log {SCRIPT} {IMG} {MARKDOWN}" in (failure.text or "")
    assert "&lt;script&gt;" in (out / "junit-trt10.xml").read_text(encoding="utf-8")

    svg = ET.parse(out / "grid-deserialize.svg")
    assert not [e for e in svg.iter() if e.tag.endswith(("script", "foreignObject"))]


def test_a_javascript_citation_is_not_made_a_link(tmp_path: Path) -> None:
    records = [
        r.replace(status="xfail", expectation={"id": "x", "citation": "javascript:alert(1)", "observed": "fail"})
        if r.status == "fail"
        else r
        for r in three_release_run()
    ]
    results = write_run(records, tmp_path / "results")
    assert main(["report", str(results), "--out", str(tmp_path / "r"), "--no-expectations"]) == 0
    tags = Tags.of((tmp_path / "r" / "index.html").read_text(encoding="utf-8")).tags
    assert not [a for t, a in tags if t == "a" and "javascript" in str(a.get("href"))]


def test_tier_0_only_results_say_what_did_not_run(tmp_path: Path) -> None:
    host_only = [r for r in three_release_run() if r.phase == 0 and r.check != "api"]
    results = write_run(host_only, tmp_path / "results")
    assert main(["report", str(results), "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))["summary"]
    assert summary["tiers"] == [0]
    assert [r["release"] for r in summary["not_run"]["releases"]] == list(catalogue.load().ids)
    assert "a tier-0 run" in summary["not_run"]["releases"][0]["why"]
    assert not (tmp_path / "r" / "grid-deserialize.svg").exists()
    assert "phase 2 did not run" in (tmp_path / "r" / "index.html").read_text(encoding="utf-8")


def test_partial_results_list_planned_cells_with_no_record(tmp_path: Path) -> None:
    records = [r for r in three_release_run() if not (r.consumer == "trt10" and r.check == "int8-cache")]
    results = write_run(records, tmp_path / "results")
    assert main(["report", str(results), "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))["summary"]
    assert summary["not_run"]["absent_cells"] == 6
    assert [(a["release"], a["check"], a["count"]) for a in summary["not_run"]["absent"]] == [
        ("trt10", "int8-cache", 6)
    ]
    reasons = {g["reason"]: g["count"] for g in summary["not_run"]["reasons"]}
    assert reasons["BuilderFlag.INT8 absent in 11.0 (implicit quantization removed)"] == 8


def test_api_surface_adds_the_api_changes_section(tmp_path: Path) -> None:
    surface = {
        "trt10": {
            "present": ["IExecutionContext.execute_async_v3", "Builder.build_engine_with_config"],
            "deprecated": [],
        },
        "trt86": {
            "present": [
                "IExecutionContext.execute_async_v2",
                "IExecutionContext.execute_async_v3",
                "Builder.build_engine",
            ],
            "deprecated": ["Builder.build_engine"],
        },
        "trt11": {
            "present": ["IExecutionContext.execute_async_v3", "Builder.build_engine_with_config"],
            "deprecated": ["Builder.build_engine_with_config"],
        },
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(surface), encoding="utf-8")
    out = run_report(tmp_path, "--api-surface", str(path))
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "API changes between releases" in html
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "**trt86 → trt10**: +1 added, −2 removed, 0 newly deprecated" in readme
    assert "**trt10 → trt11**: +0 added, −0 removed, 1 newly deprecated" in readme


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "{tmp}/nowhere", "--out", "{tmp}/r"], "no such results folder or file"),
        (["report", "{tmp}/empty", "--out", "{tmp}/r"], "no result records in"),
        (["report", "{tmp}/bad.json", "--out", "{tmp}/r"], "not JSON"),
        (
            ["report", "{tmp}/ok", "--out", "{tmp}/r", "--api-surface", "{tmp}/bad-api.json"],
            "release 'trt86'",
        ),
        (
            ["report", "{tmp}/ok", "--out", "{tmp}/r", "--expectations", "{tmp}/nope.toml"],
            "no such file; expected an expectations file",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    (tmp_path / "bad-api.json").write_text('{"trt86": {"present": "all"}}', encoding="utf-8")
    write_run(three_release_run()[:3], tmp_path / "ok")
    assert main([a.format(tmp=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trt-matrix: error: ") and message in err and err.count("\n") == 1


def not_in_sample_run() -> list[str]:
    """The catalogue's releases the three-release sample run (trt86, trt10, trt11) leaves out, in order."""
    return [r for r in catalogue.load().ids if r not in ("trt86", "trt10", "trt11")]
