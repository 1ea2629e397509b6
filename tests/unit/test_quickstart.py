"""The README's quick start: two commands between markers, run verbatim by CI in a bare Debian container.

.ci/fresh-machine runs them (the real proof, minutes long); these checks keep the pieces it relies on in
place: the markers and their commands, the CI step, and bootstrap.py's refusal of a bad CA bundle.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quickstart() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- quickstart:begin.*?-->\n(.*?)<!-- quickstart:end -->", readme, re.DOTALL)
    assert block, "README.md lost its quickstart markers (CI reads the commands between them)"
    return [line[4:] for line in block.group(1).splitlines() if line.startswith("    ") and line[4:5] != " "]


def test_the_quick_start_is_two_commands_that_need_only_python() -> None:
    commands = quickstart()
    assert [c.split("#")[0].split() for c in commands] == [
        ["python3", "bootstrap.py", "-s", "matrix"],
        ["python3", "bootstrap.py", "-s", "tests"],
    ]


def test_ci_runs_the_quick_start_on_a_fresh_machine() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert '\n.ci/fresh-machine "$BASE"\n' in run
    script = (ROOT / ".ci" / "fresh-machine").read_text(encoding="utf-8")
    assert "quickstart:begin" in script and "PIP_CERT=" in script


def test_bootstrap_refuses_a_ca_bundle_that_is_not_there(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PIP_CERT": str(tmp_path / "absent.pem")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bootstrap.py"), "--version"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"bootstrap.py: PIP_CERT={tmp_path / 'absent.pem'} is not a file")
