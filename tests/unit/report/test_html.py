"""The HTML page: helpers, structure, and a real render in headless Chromium (skipped without it).

Console errors are read from Chromium's own log (`--enable-logging=stderr`), where every console
message of the page appears as `INFO:CONSOLE`: the page logs nothing itself, so any such line is a
failure. A positive control proves the detection sees a planted error. No extra dependency (a CDP
client) is needed for that.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from matrix import catalogue
from matrix.report import html, model
from matrix.report.style import STYLES
from matrix.suite.expect import apply_all
from matrix.suite.schema import LogLine
from tests.unit.report.sample_runs import three_release_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y chromium)"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)")


def build() -> model.Report:
    from matrix.report import expectations

    records = apply_all(three_release_run(), expectations.load())
    return model.build(
        records,
        catalogue.load(),
        generated_at="2026-11-21T00:00:00Z",
        inputs=["results/"],
        expectations="test",
    )


def chromium(page: Path, profile: Path, *args: str) -> tuple[str, str]:
    """Run Chromium on a file with a fresh profile; (stdout, console lines from its log)."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [m.group(1) for line in done.stderr.splitlines() if (m := CONSOLE.search(line))]
    return done.stdout, "\n".join(console)


def test_anchor_safe_url_and_key_line() -> None:
    assert (
        html.anchor("deserialize:trt86>trt10:scrfd-2.5g:fp16:vc") == "cell-deserialize_trt86_trt10_scrfd-2_5g_fp16_vc"
    )
    assert html.safe_url("https://github.com/x/y/issues/1") == "https://github.com/x/y/issues/1"
    assert html.safe_url("javascript:alert(1)") == "" and html.safe_url('https://a"onclick=') == ""
    record = three_release_run()[0].replace(
        log=(LogLine("info", "start"), LogLine("error", "the reason"), LogLine("error", "later"))
    )
    assert html.key_line(record) == "the reason"
    assert html.key_line(record.replace(log=(LogLine("info", "only"),))) == "only"


def test_page_has_every_section_and_unique_anchors() -> None:
    report = build()
    page = html.render(report)
    for section in (
        "summary",
        "releases",
        "grids",
        "problems",
        "xfails",
        "not-run",
        "legend",
        "filters",
        "xpass",
    ):
        assert f'id="{section}"' in page
    ids = re.findall(r'id="(cell-[^"]+)"', page)
    assert len(ids) == len(set(ids)) == len(report.problems) + len(report.xfails)
    for status, style in STYLES.items():
        assert style.symbol in page, status
    assert '<section id="filters" class="filters" hidden>' in page  # hidden until the script runs


@needs_chromium
def test_console_error_detection_sees_a_planted_error(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>console.error("planted"); nosuch();</script>', "utf-8")
    _, console = chromium(page, tmp_path / "profile", "--dump-dom")
    assert '"planted"' in console and "nosuch is not defined" in console


@needs_chromium
@pytest.mark.parametrize("scripts", ["on", "off"])
def test_page_renders_in_chromium_without_console_errors(tmp_path: Path, scripts: str) -> None:
    text = html.render(build())
    if scripts == "off":  # what a reader with scripts disabled gets (headless screenshots need scripts on)
        text, removed = re.subn(r"<script>.*?</script>", "", text, flags=re.DOTALL)
        assert removed == 1
    page = tmp_path / "index.html"
    page.write_text(text, encoding="utf-8")
    dom, console = chromium(page, tmp_path / "p1", "--dump-dom")
    assert console == ""
    assert ('<section id="filters" class="filters">' in dom) is (scripts == "on")  # the filter script ran
    shot = tmp_path / "shot.png"
    _, console = chromium(page, tmp_path / "p2", "--window-size=1400,2200", f"--screenshot={shot}")
    assert console == ""
    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 2200)
    assert max(ImageStat.Stat(image).stddev) > 30  # not blank
    colours = {rgb for _, rgb in image.getcolors(maxcolors=1 << 20) or []}
    wanted = {
        status: tuple(int(STYLES[status].background[i : i + 2], 16) for i in (1, 3, 5))
        for status in ("pass", "fail", "xfail", "xpass", "crash", "skip")
    }
    missing = [status for status, rgb in wanted.items() if rgb not in colours]
    assert missing == [], f"status colours not on the screenshot: {missing}"
    assert (0x10, 0x2A, 0x43) in colours  # the header band
