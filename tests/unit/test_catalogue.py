"""The catalogue loads into validated objects, and a bad file names file, entry and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matrix import catalogue
from matrix.errors import UserError

REQUIRED_IDS = {"trt84", "trt85", "trt86", "trt100", "trt10", "trt11"}


def test_the_packaged_catalogue_has_every_tracked_release() -> None:
    cat = catalogue.load()
    assert set(cat.ids) >= REQUIRED_IDS
    for release in cat.releases:
        for fact in catalogue.FACTS:
            assert release.source(fact).startswith("https://"), (release.id, fact)
    assert cat.get("trt11").install == "pip" and cat.get("trt11").tensorrt_pip
    for rid in ("trt84", "trt85"):
        assert cat.get(rid).numpy == "<1.24"


def test_releases_are_frozen() -> None:
    release = catalogue.load().get("trt86")
    with pytest.raises(AttributeError):
        release.cuda = "99.0"  # type: ignore[misc]


def _edited(pattern: str, replacement: str) -> str:
    text = catalogue.DEFAULT_PATH.read_text(encoding="utf-8")
    edited, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, pattern
    return edited


@pytest.mark.parametrize(
    ("pattern", "replacement", "expected"),
    [
        (r'cuda = "11.7"', "cuda = 11.7", r"release 'trt84' \(entry 1\): field 'cuda': expected a string"),
        (r'install = "preinstalled"', 'install = "apt"', r"field 'install': 'apt' is not one of"),
        (r'id = "trt85"', 'id = "trt84"', r"release 'trt84' \(entry 2\): field 'id': duplicate id"),
        (
            r'compute_capabilities = \["6.0"',
            'compute_capabilities = ["sm60"',
            r"field 'compute_capabilities'",
        ),
        (r'numpy = "<1.24"', 'numpy = "lots"', r"field 'numpy': 'lots' is not a version specifier"),
        (r"notes = ", 'colour = "red"\nnotes = ', r"field 'colour': unknown field"),
        (r'cuda = "https://[^"]+"', 'cuda = "see docs"', r"sources: field 'cuda'"),
        (r'base_digest = ""', 'base_digest = "sha256:abc"', r"field 'base_digest'"),
        (r"schema = 1", "schema = [", r"not valid TOML"),
    ],
)
def test_a_bad_catalogue_names_file_entry_and_field(
    tmp_path: Path, pattern: str, replacement: str, expected: str
) -> None:
    path = tmp_path / "versions.toml"
    path.write_text(_edited(pattern, replacement), encoding="utf-8")
    with pytest.raises(UserError, match=expected) as info:
        catalogue.load(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_release_id_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"unknown release id 'trt99'.*trt86"):
        catalogue.load().get("trt99")


def test_selection_by_glob() -> None:
    assert [r.id for r in catalogue.load().select(["trt8*"])] == ["trt84", "trt85", "trt853", "trt86"]


def test_the_two_85_builds_the_plan_rules_are_tested_with() -> None:
    """tests/unit/plans/test_rules.py uses these versions literally (it runs on Python 3.8 too)."""
    cat = catalogue.load()
    assert (cat.get("trt85").tensorrt, cat.get("trt853").tensorrt) == ("8.5.1", "8.5.3")
