"""Tier-0 checks that run on the host (phase 0): ONNX models, Q/DQ quantization, the API of every release.

Each module exposes `run(ctx: CheckContext) -> Outcome`, like matrix/suite/checks, and runs isolated
in its own process. Unlike the suite, these may use host packages (onnx, onnxruntime, the stand-in).
`model_folder(ctx, name, needed)` is the exported model the run left in the artifacts when it has
every file needed, else a fresh export into the check's scratch folder.
"""

from __future__ import annotations

from pathlib import Path

from matrix.suite.outcome import CheckContext


def model_folder(ctx: CheckContext, name: str, needed: tuple[str, ...]) -> Path:
    folder = ctx.model_dir(name)
    if all((folder / f).is_file() for f in needed):
        return folder
    from matrix.models import reference

    return reference.export_model(name, ctx.scratch)
