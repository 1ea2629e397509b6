"""The network-definition API of the double: matrix/models/netdef.py builds on it, the engine runs, and its
outputs match ONNX Runtime on the exported ONNX model (same network, same weights); the decode plugin's
detections equal postprocess.py's decode of the FP32 outputs; the serialize netdef cells pass through the
worker on 8.6.1, 10.8 and 11.4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from matrix.models import tomlload
from matrix.run import selftest

from tests.double.conftest import DOUBLE, ROOT, artifacts_with, needs_make, run_cell

RELEASES = ("8.6.1", "10.8.0.43", "11.4.0.106")


def probe(version: str, models: Path, *args: str) -> Any:
    activation = selftest.parse(tomlload.load(DOUBLE / "selftest.toml"))
    env = dict(os.environ)
    env.pop(activation.faults_variable, None)
    env.update(activation.environment(tensorrt=version, repo_root=str(ROOT), base_path=env["PATH"], base_pythonpath=""))
    proc = subprocess.run(
        [sys.executable, str(DOUBLE / "netdef_probe.py"), str(models), *args],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("version", RELEASES)
def test_netdef_engine_matches_onnx_runtime(version: str, exported: Path) -> None:
    got = probe(version, exported, "retinaface-mnet")
    assert got["ok"]
    assert set(got["metrics"]) == {"loc", "conf", "landms"}
    assert got["verdict"] == [], got["metrics"]  # thresholds.toml [fp32]: cosine >= 0.9999, max |diff| <= 0.05
    assert got["api"]["convolution"] == "add_convolution_nd"
    assert got["api"]["resize"] == "InterpolationMode"


def test_decode_plugin_detects_what_postprocess_decodes(exported: Path) -> None:
    needs_make()
    got = probe("8.6.1", exported, "retinaface-mnet", "plugin")
    assert got["library"] == "libtrtm_retinaface_decode.so"
    assert got["creator"] == ["RetinaFaceDecode_TRTM", "1"]
    detection = got["detection"]
    assert detection["fp32"] > 0 and detection["recall"] == 1.0 and detection["precision"] == 1.0, detection


@pytest.mark.parametrize("version", RELEASES)
def test_serialize_netdef_cell_passes(version: str, exported: Path, tmp_path: Path) -> None:
    pair = {"8": "trt86>trt86", "10": "trt10>trt10", "11": "trt11>trt11"}[version.split(".", maxsplit=1)[0]]
    outcome = run_cell(f"serialize:{pair}:retinaface-mnet:fp32:netdef", version, artifacts_with(exported, tmp_path))
    assert outcome.status == "pass", (outcome.reason, [x.text for x in outcome.log][-6:])
    assert outcome.measurements["plan_bytes"] > 0


def test_a_layer_attribute_the_release_lacks_is_refused(exported: Path) -> None:
    """8.6.1 keeps IConvolutionLayer.stride (DimsHW); 10.x removed it: assigning it fails as in pybind11."""
    code = (
        "import tensorrt as trt, numpy as np\n"
        "net = trt.Builder(None).create_network(1)\n"
        "x = net.add_input('x', trt.float32, (1, 3, 8, 8))\n"
        "w = trt.Weights(np.zeros(2 * 3 * 9, np.float32))\n"
        "layer = net.add_convolution_nd(x, 2, (3, 3), w)\n"
        "layer.stride_nd = (2, 2)\n"
        "print(tuple(layer.get_output(0).shape))\n"
        "try:\n    layer.stride = (1, 1)\n    print('set')\nexcept AttributeError:\n    print('refused')\n"
    )
    out = {}
    for version in ("8.6.1", "10.8.0.43"):
        env = dict(os.environ, PYTHONPATH=str(DOUBLE), TRT_MATRIX_DOUBLE=version)
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[version] = proc.stdout.split()
    assert out["8.6.1"][-1] == "set" and out["10.8.0.43"][-1] == "refused"
    assert out["8.6.1"][0] == out["10.8.0.43"][0] == "(1,"  # (1, 2, 3, 3)
