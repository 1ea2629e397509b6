"""tox.ini is generated from the catalogue and checked like the Dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from matrix import catalogue
from matrix.cli import main
from matrix.images import toxgen


def test_every_release_has_an_environment_and_a_local_one() -> None:
    cat = catalogue.load()
    text = toxgen.render(cat)
    for release in cat.releases:
        assert f"[testenv:{release.id}]" in text and f"[testenv:{release.id}-local]" in text
        assert f"trt-matrix run --only {release.id} " in text
    assert "deps = tensorrt-cu12==11.4.0.106\nset_env = PIP_EXTRA_INDEX_URL = https://pypi.nvidia.com" in text


def test_the_committed_tox_ini_is_what_the_catalogue_generates() -> None:
    assert toxgen.DEFAULT_PATH.read_text(encoding="utf-8") == toxgen.render(catalogue.load())


def test_check_fails_on_a_stale_tox_ini(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "tox.ini"
    stale.write_text(toxgen.render(catalogue.load()).replace("trt86", "trt87"), encoding="utf-8")
    assert main(["images", "generate", "--check", "--tox", str(stale)]) == 1
    assert "tox.ini: stale" in capsys.readouterr().err
    assert main(["images", "generate", "--tox", str(stale)]) == 0
    assert main(["images", "generate", "--check", "--tox", str(stale)]) == 0
