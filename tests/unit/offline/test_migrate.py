"""`migrate`: every removal the API table lists is found through tensorrt objects, never on other objects.

The removal lists come from the checked-in snapshot (the table built from the real bindings), so
the code under test is generated per removed name: a new removal in a regenerated snapshot is covered
without editing this file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from matrix import catalogue
from matrix.errors import UserError
from matrix.offline import api_snapshot, migrate
from matrix.offline.migrate import Finding

SNAPSHOT = api_snapshot.load()
FACTS = migrate.load_facts()
CLASSES = ("Builder", "IBuilderConfig", "ICudaEngine", "IExecutionContext", "Runtime")
CALIBRATORS = (
    "IInt8Calibrator",
    "IInt8EntropyCalibrator",
    "IInt8EntropyCalibrator2",
    "IInt8MinMaxCalibrator",
    "IInt8LegacyCalibrator",
)
# How the test code makes each object from tensorrt (the chains a user writes).
MAKERS = {
    "Builder": "trt.Builder(logger)",
    "IBuilderConfig": "trt.Builder(logger).create_builder_config()",
    "Runtime": "trt.Runtime(logger)",
    "ICudaEngine": "trt.Runtime(logger).deserialize_cuda_engine(plan)",
    "IExecutionContext": "trt.Runtime(logger).deserialize_cuda_engine(plan).create_execution_context()",
    **{c: f"trt.{c}()" for c in CALIBRATORS},
}
LAST_10 = [r for r in SNAPSHOT.releases if r.startswith("10.")][-1]


def removals(old: str, new: str) -> list[str]:
    wanted = (*CLASSES, *CALIBRATORS)
    return sorted(
        name
        for name in SNAPSHOT.present
        if SNAPSHOT.has(old, name)
        and not SNAPSHOT.has(new, name)
        and (name in CALIBRATORS or name.split(".")[0] in wanted)
    )


def use_line(name: str, receiver: str) -> str:
    owner, _, member = name.partition(".")
    if not member:
        return f"trt.{owner}"
    if member == "__len__":
        return f"len({receiver})"
    if member == "__getitem__":
        return f"{receiver}[0]"
    return f"{receiver}.{member}"


def generated(names: list[str]) -> str:
    lines = ["import tensorrt as trt", "logger = trt.Logger(trt.Logger.WARNING)", "def use(plan):"]
    for i, name in enumerate(names):
        owner = name.split(".")[0]
        lines.append(f"    obj{i} = {MAKERS[owner]}")
        lines.append(f"    {use_line(name, f'obj{i}')}")
    return "\n".join(lines) + "\n"


def found(text: str, targets: list[str], **kw: object) -> list[Finding]:
    return migrate.check_source(text, "t.py", targets, SNAPSHOT, FACTS, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("old", "new"), [("8.6.1", "10.0.1"), (LAST_10, "11.0.0.114")])
def test_every_listed_removal_is_found_through_tensorrt_objects(old: str, new: str) -> None:
    names = removals(old, new)
    assert len(names) > 20, names  # the table lists the 8 -> 10 and 10 -> 11 breaks
    findings = found(generated(names), [new])
    assert {f.name for f in findings} == set(names)
    assert all(f.status == "removed" and f.release == new and not f.unsure for f in findings)
    assert all(f.replacement for f in findings)


@pytest.mark.parametrize(("old", "new"), [("8.6.1", "10.0.1"), (LAST_10, "11.0.0.114")])
def test_the_same_names_on_unrelated_objects_are_not_findings(old: str, new: str) -> None:
    names = [n for n in removals(old, new) if "." in n]
    body = "\n".join(f"    {use_line(n, 'other')}" for n in names)
    text = "import tensorrt as trt\nclass Other: pass\ndef use(x):\n    other = Other()\n" + body + "\n"
    assert found(text, [new]) == []
    loose = found(text.replace("other = Other()", "other = x"), [new], loose=True)
    assert loose and all(f.unsure for f in loose)


def test_objects_flow_through_attributes_returns_with_and_annotations() -> None:
    text = textwrap.dedent(
        """
        import tensorrt
        from tensorrt import Runtime, BuilderFlag

        def make_engine(plan):
            return Runtime(None).deserialize_cuda_engine(plan)

        class Runner:
            def __init__(self, plan):
                self.engine = make_engine(plan)
                self.context = self.engine.create_execution_context()

            def run(self, b, s):
                self.context.execute_async_v2(b, s)
                return self.context.engine.num_bindings

        def build(logger, ctx: "tensorrt.IExecutionContext"):
            with tensorrt.Builder(logger) as builder, builder.create_builder_config() as config:
                config.max_workspace_size = 1
                config.set_flag(BuilderFlag.INT8)
            ctx.set_binding_shape(0, (1, 3))
        """
    )
    names = {(f.line, f.name) for f in found(text, ["11.4.0.106"])}
    assert names == {
        (14, "IExecutionContext.execute_async_v2"),
        (15, "ICudaEngine.num_bindings"),
        (19, "IBuilderConfig.max_workspace_size"),
        (20, "BuilderFlag.INT8"),
        (21, "IExecutionContext.set_binding_shape"),
    }


def test_local_functions_and_other_libraries_named_like_tensorrt_are_not_findings() -> None:
    text = textwrap.dedent(
        """
        import tensorrt as trt
        import mylib

        def build_engine(network, config):
            return None

        class Engine:
            num_bindings = 2
            def get_binding_shape(self, i):
                return ()

        engine = Engine()
        engine.get_binding_shape(0), engine.num_bindings
        build_engine(None, None)
        mylib.Builder().build_engine(1, 2)
        runtime = trt.Runtime(None)
        runtime = mylib.Runtime()
        runtime.deserialize_cuda_engine(b"").num_bindings
        """
    )
    assert found(text, ["10.8.0.43"]) == []


def test_user_subclass_of_a_calibrator_own_methods_are_not_findings() -> None:
    text = textwrap.dedent(
        """
        import tensorrt as trt

        class Calib(trt.IInt8EntropyCalibrator2):
            def get_batch_size(self):
                return 1

        calib = Calib()
        calib.get_batch_size()
        calib.read_calibration_cache()
        """
    )
    findings = found(text, ["11.4.0.106"])
    assert [(f.line, f.name) for f in findings] == [
        (4, "IInt8EntropyCalibrator2"),
        (10, "IInt8EntropyCalibrator2.read_calibration_cache"),
    ]


def test_feature_tested_uses_are_marked_guarded() -> None:
    text = textwrap.dedent(
        """
        import tensorrt as trt
        ctx = trt.Runtime(None).deserialize_cuda_engine(b"").create_execution_context()
        if hasattr(ctx, "execute_async_v3"):
            ctx.execute_async_v3(0)
        else:
            ctx.execute_async_v2([], 0)
        try:
            ctx.set_binding_shape(0, ())
        except AttributeError:
            pass
        ctx.execute_async(1, [], 0)
        """
    )
    by_line = {f.line: f.guarded for f in found(text, ["10.0.1"])}
    assert by_line == {7: True, 9: True, 12: False}


def test_source_release_reports_names_it_lacks_and_target_before_addition_is_absent() -> None:
    text = "import tensorrt as trt\ntrt.Builder(None).build_engine_with_config(1, 2)\n"
    findings = found(text, ["10.8.0.43"], source="8.6.1")
    assert [(f.status, f.release, f.target) for f in findings] == [("absent", "10.6.0", "8.6.1")]
    early = found(text, ["10.5.0"])
    assert [(f.status, f.release) for f in early] == [("absent", "10.6.0")]


def test_deprecated_in_target_is_reported_with_where_it_began() -> None:
    text = "import tensorrt as trt\ntrt.IInt8EntropyCalibrator2\n"
    (finding,) = found(text, ["10.8.0.43"])
    assert finding.status == "deprecated"
    assert SNAPSHOT.is_deprecated(finding.release, "IInt8EntropyCalibrator2")
    earlier = SNAPSHOT.releases[SNAPSHOT.releases.index(finding.release) - 1]
    assert not SNAPSHOT.is_deprecated(earlier, "IInt8EntropyCalibrator2")


def test_release_names_resolve_by_prefix_id_and_latest() -> None:
    releases = catalogue.load().releases
    assert migrate.resolve(SNAPSHOT, "10.8", releases) == "10.8.0.43"
    assert migrate.resolve(SNAPSHOT, "trt10", releases) == "10.8.0.43"
    assert migrate.resolve(SNAPSHOT, "trt86", releases) == "8.6.1"
    assert migrate.resolve(SNAPSHOT, "latest", releases) == SNAPSHOT.releases[-1]
    assert migrate.resolve(SNAPSHOT, "10.13", releases) == "10.13.3.9"
    with pytest.raises(UserError, match=r"trt84 is 8\.4\.1, which has no bindings wheel"):
        migrate.resolve(SNAPSHOT, "trt84", releases)
    with pytest.raises(UserError, match=r"'9\.9' is not in the API table"):
        migrate.resolve(SNAPSHOT, "9.9", releases)


def test_folders_skip_hidden_and_venvs_and_bad_files_are_listed(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("import tensorrt as trt\ntrt.Builder(None).build_engine\n")
    (tmp_path / "broken.py").write_text("def (\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.py").write_text("import tensorrt as trt\ntrt.Builder(None).build_engine\n")
    report = migrate.check([tmp_path], ["10.0.1"], SNAPSHOT, FACTS, root=tmp_path)
    assert report.files == 2
    assert [(f.file, f.name) for f in report.findings] == [("ok.py", "Builder.build_engine")]
    assert report.unparsable == (("broken.py", "line 1: invalid syntax"),)
    with pytest.raises(UserError, match="no such file or folder"):
        migrate.check([tmp_path / "missing"], ["10.0.1"], SNAPSHOT, FACTS)


def test_replacement_names_and_returns_exist_in_the_table() -> None:
    for member, result in FACTS.returns.items():
        assert SNAPSHOT.known(member) and SNAPSHOT.known(result), member
    for replacement in FACTS.replacements:
        assert replacement.cite.startswith("https://docs.nvidia.com/deeplearning/tensorrt/")
        assert all(SNAPSHOT.known(u) for u in replacement.uses), replacement.uses


def test_loose_follows_a_module_held_in_self_trt_and_marks_it_unsure() -> None:
    text = textwrap.dedent(
        """
        class Api:
            def __init__(self, trt):
                self.trt = trt

            def flags(self, config):
                config.set_flag(self.trt.BuilderFlag.INT8)
        """
    )
    assert found(text, ["11.4.0.106"]) == []
    (finding,) = found(text, ["11.4.0.106"], loose=True)
    assert (finding.name, finding.unsure, finding.line) == ("BuilderFlag.INT8", True, 7)


def test_this_repositorys_suite_on_11_4_every_use_is_guarded() -> None:
    """The in-image suite picks paths by feature detection: precise mode finds nothing, and every
    `--loose` finding sits behind has()/require()/hasattr, but for one call on the adapter itself."""
    suite = Path(__file__).resolve().parents[3] / "matrix" / "suite"
    root = suite.parents[1]
    assert migrate.check([suite], ["11.4.0.106"], SNAPSHOT, FACTS, root=root).findings == ()
    loose = migrate.check([suite], ["11.4.0.106"], SNAPSHOT, FACTS, loose=True, root=root).findings
    assert len(loose) >= 10 and all(f.unsure for f in loose)
    unguarded = {(f.file, f.name) for f in loose if not f.guarded}
    # `self.api.execute_async_v2(...)` calls the adapter's own method (matrix/suite/adapter.py), which
    # requires IExecutionContext.execute_async_v2 before it touches TensorRT: a loose-mode false positive.
    assert unguarded == {("matrix/suite/checks/common.py", "IExecutionContext.execute_async_v2")}


def test_a_submodule_alias_is_not_the_tensorrt_module() -> None:
    text = "import tensorrt.plugin as trtp\nimport tensorrt\ntrtp.Builder\ntensorrt.BuilderFlag.FP16\n"
    assert [(f.line, f.name) for f in found(text, ["11.4.0.106"])] == [(4, "BuilderFlag.FP16")]
