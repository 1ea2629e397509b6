"""`run --warmup N --repeats N`: the execute cells' latency settings reach the suite process, and bad values
are refused before any work."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from matrix.cli import main
from matrix.run import runner as runmod
from matrix.run.progress import PlainProgress
from tests.unit.run.test_reuse import inputs, options


def test_the_settings_reach_the_suite_as_options(tmp_path: Path) -> None:
    base = options(tmp_path, "r1", inputs(), None)
    quick = runmod.Runner(dataclasses.replace(base, latency=(1, 3)), PlainProgress(io.StringIO()))
    args = quick.pytest_args("trt86", 1, "/repo", "/results", "/artifacts")
    assert args[args.index("--trt-warmup") + 1] == "1" and args[args.index("--trt-repeats") + 1] == "3"
    default = runmod.Runner(base, PlainProgress(io.StringIO())).pytest_args("trt86", 1, "/r", "/r", "/a")
    assert "--trt-warmup" not in default and "--trt-repeats" not in default


@pytest.mark.parametrize(("flag", "value"), [("--repeats", "0"), ("--warmup", "-1")])
def test_bad_values_are_one_line_and_exit_2(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--only", "trt86", flag, value, "--results", str(tmp_path / "r"), "--no-report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{flag} {value}: must be at least" in err[0]
