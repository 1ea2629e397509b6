"""`python tests/double/conformance_probe.py` with the double on the path: print the double's signature
mismatches against its release's real signatures (tensorrt/signatures/<release>.json) as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import tensorrt
from tensorrt import _model

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.double import conformance


def main() -> None:
    release = tensorrt.__trt_matrix_double__
    path = Path(tensorrt.__file__).parent / "signatures" / f"{release}.json"
    real = json.loads(path.read_text(encoding="utf-8"))["signatures"]
    methods = conformance.modelled_methods(_model.MODELS, tensorrt)
    problems = conformance.mismatches(methods, real, tensorrt._NAMES, conformance.UNMODELLED)
    sys.stdout.write(json.dumps({"release": release, "compared": len(methods), "problems": problems}) + "\n")


if __name__ == "__main__":
    main()
