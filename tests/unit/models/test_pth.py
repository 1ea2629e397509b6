"""The .pth reader: genuine torch files in both layouts, the real RetinaFace file, and refusals."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import pth, registry, weights
from tests.unit.models.conftest import DATA


@pytest.mark.parametrize("name", ["tiny_zip.pth", "tiny_legacy.pth"])
def test_reads_genuine_torch_files(name: str) -> None:
    """Files written by torch 2.11's torch.save (see data/README.md), values as torch printed them."""
    expected = json.loads((DATA / "tiny_expected.json").read_text())["tensors"]
    got = pth.read_pth(DATA / name)
    assert list(got) == list(expected)
    for key, want in expected.items():
        assert list(got[key].shape) == want["shape"], key
        np.testing.assert_allclose(got[key].reshape(-1), want["values"], rtol=0, atol=1e-7)
    assert got["conv.weight"].dtype == np.float32 and got["h.weight"].dtype == np.float32  # half widened
    assert got["bn.num_batches_tracked"].dtype == np.int64
    np.testing.assert_array_equal(got["t.weight"], np.arange(6, dtype=np.float32).reshape(2, 3).T)


def test_reads_the_real_retinaface_file(mnet_weights: Path) -> None:
    sd = pth.read_pth(mnet_weights)
    names = {k: tuple(v.shape) for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    assert names == dict(weights.architecture(registry.get("retinaface-mnet")))
    assert float(sd["body.stage1.0.0.weight"].reshape(-1)[0]) == pytest.approx(0.09556027501821518)


class _Evil:
    def __reduce__(self) -> Any:
        return (os.system, ("echo this must never run",))


def _zip_with(pkl: bytes, path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/version", "3\n")
    return path


def test_refuses_code_in_the_pickle(tmp_path: Path) -> None:
    path = _zip_with(pickle.dumps(_Evil(), protocol=2), tmp_path / "evil.pth")
    with pytest.raises(UserError, match=r"names (posix|nt)\.system.*refusing"):
        pth.read_pth(path)


def test_refuses_a_whole_pickled_model(tmp_path: Path) -> None:
    # an ultralytics .pt or torch.save(model) pickles classes by name: refused, with what to do instead
    buf = io.BytesIO()
    pickle.Pickler(buf, protocol=2).dump(zipfile.ZipInfo("x"))
    with pytest.raises(UserError, match=r"zipfile\.ZipInfo.*state_dict"):
        pth.read_pth(_zip_with(buf.getvalue(), tmp_path / "model.pt"))


def test_refuses_files_that_are_not_torch_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00\x01not a pickle at all")
    with pytest.raises(UserError, match=r"junk\.pth"):
        pth.read_pth(junk)
    with pytest.raises(UserError, match="no such weights file"):
        pth.read_pth(tmp_path / "absent.pth")


def test_refuses_a_truncated_legacy_file(tmp_path: Path) -> None:
    data = (DATA / "tiny_legacy.pth").read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(data[:-20])
    with pytest.raises(UserError, match=r"truncated|ends inside"):
        pth.read_pth(cut)
