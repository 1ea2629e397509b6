"""matrix.plans, the public library: its pinned API, what importing it costs, and the Done-means of
issue 21 on the real fixture plans. Runs on Python 3.8 too (nox -s py38)."""

from __future__ import annotations

import dataclasses
import inspect
import io
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from matrix import plans
from tests.unit.suite import synthetic_plans as syn

FIXTURES = syn.fixture_dir()
REPO = Path(__file__).resolve().parents[3]

# The public API, pinned. Changing a line here is an API change: bump plans.API_VERSION by semantic
# versioning (a removal or an incompatible signature is a major bump) and say so in the README.
PINNED_API_VERSION = "1.0.0"
PINNED_NAMES = ["API_VERSION", "PlanError", "PlanInfo", "Verdict", "identify", "will_load"]
PINNED_SIGNATURES = {
    "identify": "(source: 'Source') -> 'PlanInfo'",
    "will_load": (
        "(info_or_source: 'PlanInfo | Source', runtime: 'str | types.ModuleType', "
        "compute_capability: 'str | tuple[int, int] | None' = None) -> 'Verdict'"
    ),
}
PINNED_FIELDS = {
    "PlanInfo": [
        ("kind", "Kind"),
        ("magic", "str | None"),
        ("builder_version", "str | None"),
        ("serialization_tag", "int | None"),
        ("platform", "str | None"),
        ("payload_offset", "int | None"),
        ("size", "int"),
        ("header", "planfile.PlanFile"),
    ],
    "Verdict": [
        ("loads", "bool | None"),
        ("reason", "str"),
        ("log_line", "str"),
        ("runtime", "str"),
        ("status", "rules.Status"),
        ("log_source", "str"),
    ],
}


def public_api() -> tuple[list[str], dict[str, str], dict[str, list[tuple[str, str]]]]:
    names = sorted(plans.__all__)
    signatures = {name: str(inspect.signature(getattr(plans, name))) for name in PINNED_SIGNATURES}
    fields = {cls: [(f.name, str(f.type)) for f in dataclasses.fields(getattr(plans, cls))] for cls in PINNED_FIELDS}
    return names, signatures, fields


def test_the_public_api_is_pinned() -> None:
    names, signatures, fields = public_api()
    assert plans.API_VERSION == PINNED_API_VERSION
    assert names == PINNED_NAMES
    assert signatures == PINNED_SIGNATURES
    assert fields == PINNED_FIELDS
    assert issubclass(plans.PlanError, ValueError)


def test_the_pinning_notices_a_changed_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test the test: a renamed parameter or an extra public name is seen."""

    def identify(path: str) -> plans.PlanInfo:  # pragma: no cover - never called
        raise AssertionError

    monkeypatch.setattr(plans, "identify", identify)
    assert public_api()[1] != PINNED_SIGNATURES
    monkeypatch.undo()
    monkeypatch.setattr(plans, "__all__", [*plans.__all__, "extra"])
    assert public_api()[0] != PINNED_NAMES


def test_importing_it_pulls_in_nothing_heavy() -> None:
    # what the import itself adds: a coverage run starts in every subprocess first and reads its TOML config
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import matrix.plans\n"
        "heavy = ('docker', 'jinja2', 'onnx', 'onnxruntime', 'rich', 'numpy', 'packaging', 'tomli', 'tomllib')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules and m not in before)))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=REPO)
    assert out.stdout.strip() == ""


def test_py_typed_is_shipped() -> None:
    assert (REPO / "matrix" / "py.typed").is_file()


@pytest.mark.skipif(FIXTURES is None, reason="no ../shared/fixtures/engines/EXPECTED.tsv here")
def test_every_fixture_is_identified_as_expected_and_loads_in_its_own_build() -> None:
    assert FIXTURES is not None
    rows = syn.expected_rows()
    assert len(rows) == 7
    for row in rows:
        path = FIXTURES / row["file"]
        info = plans.identify(path)
        assert (info.kind, info.magic) == ("plan", row["magic"])
        assert info.builder_version == row["builder_version"]
        assert info.serialization_tag == int(row["serialization_tag"])
        assert info.payload_offset == 0 and info.size == path.stat().st_size
        # ptrt headers record no platform; EXPECTED.tsv's x86_64 rows are the ftrt 'rtrt' ones.
        assert info.platform == (row["platform"] if info.magic == "ftrt" else None)
        own = plans.will_load(info, row["builder_version"])
        assert own.loads is True and own.status == "loads", own.reason
        assert plans.identify(path.read_bytes()) == info
        with open(path, "rb") as handle:
            assert plans.identify(handle) == info


@pytest.mark.skipif(FIXTURES is None, reason="no ../shared/fixtures/engines here")
def test_no_rule_reaches_refuses_with_a_log_line_and_an_unrecorded_flag_is_none() -> None:
    assert FIXTURES is not None
    old = FIXTURES / "06_processing-pipeline__model.engine"  # 8.2.1.8, ptrt
    v = plans.will_load(old, "10.8.0.43")
    assert v.loads is False and "loads only in the exact build" in v.reason
    assert v.log_line == "incompatible serialization version (1953657968 != 1953657958)"
    assert v.log_source.startswith("inferred, not observed")
    v86 = plans.will_load(old, "8.6.1.6")
    assert v86.loads is False and v86.log_line == ""  # no message is on record for ptrt in an 8.6 runtime
    vc = plans.will_load(FIXTURES / "13_trt-samples-for-hackathon-cn__model-Dim1.plan", "10.8.0.43")
    assert vc.loads is None and vc.status == "loads-if-version-compatible"
    assert "the header does not say whether it was" in vc.reason
    assert vc.log_line.endswith("Current Version: 239, Serialized Engine Version: 237")
    series = plans.will_load(FIXTURES / "13_trt-samples-for-hackathon-cn__model-Dim1.plan", "10.0.1")
    assert series.loads is None and series.status == "unknown"


def test_a_wrapped_plan_says_where_the_plan_starts() -> None:
    version = (10, 9, 0, 34)
    inner = syn.ftrt(version, [("ENGN", syn.ptrt_current(version, 239))])
    info = plans.identify(syn.wrapped({"task": "detect"}, inner))
    assert info.kind == "wrapped-plan" and info.builder_version == "10.9.0.34"
    assert info.payload_offset is not None
    assert plans.identify(syn.wrapped({"task": "detect"}, inner)[info.payload_offset :]).kind == "plan"
    v = plans.will_load(info, "10.9.0.34")
    assert v.loads is False and "TensorRT does not strip it" in v.reason
    assert plans.identify(syn.lfs_pointer()).payload_offset is None


def test_a_file_object_is_read_from_its_position_and_left_there() -> None:
    version = (10, 15, 1, 29)
    data = syn.ftrt(version, [("ENGN", syn.ptrt_compact(version, 240))])
    handle = io.BytesIO(b"JUNK" + data)
    handle.seek(4)
    info = plans.identify(handle)
    assert info.builder_version == "10.15.1.29" and info.size == len(data)
    assert handle.tell() == 4


def test_runtime_may_be_the_tensorrt_module_and_compute_capability_is_noted() -> None:
    version = (10, 8, 0, 43)
    data = syn.ftrt(version, [("ENGN", syn.ptrt_current(version, 239))])
    fake = types.ModuleType("tensorrt")
    fake.__version__ = "10.8.0.43"  # type: ignore[attr-defined]
    v = plans.will_load(data, fake, compute_capability=(8, 6))
    assert v.loads is True and v.runtime == "10.8.0.43"
    assert "compute capability 8.6" in v.reason and "not checked" in v.reason
    assert plans.will_load(data, "10.8.0.43.post1").loads is True
    with pytest.raises(TypeError, match="three outcomes"):
        bool(v)


@pytest.mark.parametrize(
    ("source", "message"),
    [(b"", "empty file"), (b"ftrt" + b"\0" * 8, "truncated"), (b"ab", "too short")],
)
def test_unreadable_bytes_raise_the_one_error(source: bytes, message: str) -> None:
    with pytest.raises(plans.PlanError, match=message):
        plans.identify(source)


def test_unreadable_paths_and_bad_runtimes_raise_the_one_error(tmp_path: Path) -> None:
    with pytest.raises(plans.PlanError, match="no such file"):
        plans.identify(tmp_path / "missing.engine")
    with pytest.raises(plans.PlanError, match="directory"):
        plans.identify(tmp_path)
    dangling = tmp_path / "dangling.engine"
    dangling.symlink_to(tmp_path / "gone")
    with pytest.raises(plans.PlanError, match="no such file"):
        plans.identify(dangling)
    good = syn.ftrt((10, 8, 0, 43), [("ENGN", syn.ptrt_current((10, 8, 0, 43), 239))])
    with pytest.raises(plans.PlanError, match="not a TensorRT version"):
        plans.will_load(good, "latest")
    with pytest.raises(plans.PlanError, match=r"MAJOR\.MINOR"):
        plans.will_load(good, "10.8.0.43", compute_capability="sm_86")
    with pytest.raises(TypeError, match="path, bytes or a binary file object"):
        plans.identify(42)  # type: ignore[arg-type]
