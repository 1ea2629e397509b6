"""Reports from result records: HTML page, README.md, results.json, JUnit XML and SVG grids.

Contract: `write_all(report, out_dir, image_base)` writes `index.html`, `README.md`,
`results.json`, one `junit-<release>.xml` per release and one `grid-<check>.svg` per cross check
with records, and returns the paths written. It reads only the `Report` built by
`matrix.report.model.build` from JSON records: nothing is re-run. `expectations` loads and lints
matrix/expectations.toml on the host; `diff` compares two runs.
May import: the root (catalogue, errors), `matrix.run.results` (the results-file reader),
`matrix.run.selftest` (the double's marker and scenarios) and
`matrix.suite` (schema, cells, expect). Must not import: commands, images, offline, hostchecks.
"""

from __future__ import annotations

import json
from pathlib import Path

from matrix.report import canonical, html, junit, markdown, svg
from matrix.report.model import CROSS_CHECKS, Report


def write_all(report: Report, out_dir: Path, image_base: str = "") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: str | bytes) -> None:
        path = out_dir / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        written.append(path)

    images = []
    for check in CROSS_CHECKS:
        if any(g.check == check for g in report.grids):
            name = f"grid-{check}.svg"
            put(name, svg.render(check, report.grids, report.banner))
            images.append(name)
    put("index.html", html.render(report))
    put("README.md", markdown.render(report, image_base=image_base, images=images))
    put("results.json", json.dumps(canonical.document(report), indent=1, sort_keys=False, default=str) + "\n")
    for release, records in junit.by_release(list(report.results)).items():
        put(f"junit-{release}.xml", junit.render(release, records, report.banner))
    return written
