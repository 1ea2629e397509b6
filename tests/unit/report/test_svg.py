"""The SVG grid image: well-formed, one symbol and colour per cell, a legend, no external references."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from matrix import catalogue
from matrix.report import model, svg
from matrix.report.style import STYLES
from tests.unit.report.sample_runs import three_release_run

NS = "{http://www.w3.org/2000/svg}"


def test_grid_svg_has_a_cell_per_record_with_symbol_and_colour() -> None:
    report = model.build(three_release_run(), catalogue.load(), generated_at="t", inputs=["x"], expectations="e")
    root = ET.fromstring(svg.render("deserialize", report.grids))
    groups = root.findall(f".//{NS}g")
    deserialize = [g for g in report.grids if g.check == "deserialize"]
    assert len(groups) == sum(len(g.producers) * len(g.consumers) for g in deserialize) == 18 * 9
    first = groups[0]
    title = first.find(f"{NS}title")
    assert title is not None and title.text == "trt86 → trt86: pass"
    rect, text = first.find(f"{NS}rect"), first.find(f"{NS}text")
    assert rect is not None and rect.get("fill") == STYLES["pass"].background
    assert text is not None and text.text == STYLES["pass"].symbol
    texts = {t.text for t in root.iter(f"{NS}text")}
    assert {s.label for s in STYLES.values()} <= texts  # the legend
    assert "href" not in ET.tostring(root, encoding="unicode")
