"""Plain build lines for CI and pipes; the failing step's tail goes to stderr."""

from __future__ import annotations

import io

import pytest

from matrix.images import display as build_display


def test_short_collapses_continuations_and_truncates() -> None:
    assert build_display.short("RUN set -eu; \\\n    apt-get update") == "RUN set -eu; apt-get update"
    long = build_display.short("RUN " + "x" * 300, limit=20)
    assert len(long) == 20 and long.endswith("…")


def test_ci_true_forces_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    assert not build_display.plain_wanted(Terminal())
    assert build_display.plain_wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert build_display.plain_wanted(Terminal())


def test_plain_lines_are_prefixed_with_the_release() -> None:
    out, err = io.StringIO(), io.StringIO()
    display = build_display.Display(out=out, err=err)
    display.step("trt86", 3, 15, "RUN set -eu; \\\n  python3 -m pip install x", "cached")
    display.output("trt86", "not shown unless verbose")
    display.finished("trt86", "built")
    display.failed("trt86", "step 4/15 (RUN ...)", ["E: Unable to locate package nope"])
    assert out.getvalue().splitlines() == [
        "trt86: step 3/15 (cached) RUN set -eu; python3 -m pip install x",
        "trt86: built",
    ]
    assert err.getvalue().splitlines() == [
        "trt86: build failed at step 4/15 (RUN ...); the step's last output lines:",
        "trt86: | E: Unable to locate package nope",
    ]


def test_verbose_shows_output_lines() -> None:
    out = io.StringIO()
    build_display.Display(verbose=True, out=out).output("trt11", "Collecting numpy")
    assert out.getvalue() == "trt11:   Collecting numpy\n"


def test_choose_is_plain_when_not_a_terminal() -> None:
    assert type(build_display.choose()) is build_display.Display  # pytest captures stdout: not a TTY
