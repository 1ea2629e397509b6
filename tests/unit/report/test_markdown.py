"""README.md: escaping helpers, GitHub's 1 MiB step-summary limit, and compactness on a big run."""

from __future__ import annotations

from markdown_it import MarkdownIt

from matrix import catalogue
from matrix.report import markdown, model
from matrix.suite.schema import LogLine
from tests.unit.report.sample_runs import three_release_run


def test_md_escapes_html_and_markdown_syntax() -> None:
    text = "<b>x</b> *y* _z_ [a](b) `c` | d ~e~ \\ f"
    rendered = MarkdownIt("commonmark", {"html": True}).render(markdown.md(text))
    assert rendered == "<p>&lt;b&gt;x&lt;/b&gt; *y* _z_ [a](b) `c` | d ~e~ \\ f</p>\n"


def test_fence_is_longer_than_any_backtick_run_in_the_log() -> None:
    lines = markdown.fenced(["a ```` b", "c"])
    assert lines[0] == "`````text" and lines[-1] == "`````"
    rendered = MarkdownIt("commonmark").render("\n".join(lines))
    assert rendered == '<pre><code class="language-text">a ```` b\nc\n</code></pre>\n'


def test_a_huge_failing_run_stays_under_the_step_summary_limit() -> None:
    noisy = [
        r.replace(status="fail", reason="x" * 300, log=tuple(LogLine("error", "y" * 3000) for _ in range(50)))
        if r.phase > 0
        else r
        for r in three_release_run() * 8
    ]
    noisy = [r.replace(cell_id=f"{r.cell_id}{i}", variant=f"{r.variant}{i}") for i, r in enumerate(noisy)]
    report = model.build(noisy, catalogue.load(), generated_at="t", inputs=["x"], expectations="e")
    text = markdown.render(report)
    assert len(text.encode("utf-8")) <= markdown.LIMIT
    assert "## Release × check" in text
    assert f"and {len(report.problems) - markdown.MAX_LISTED} more: see index.html" in text
    assert text.count("```text") == markdown.MAX_DETAILED
