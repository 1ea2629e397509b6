"""`trt-matrix quantize`: an explicit-INT8 (Q/DQ) ONNX model from ONNX Runtime, and its accuracy against FP32."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from matrix.errors import UserError

INT8_MODELS = ("retinaface-mnet", "retinaface-r50", "scrfd-500m", "scrfd-2.5g")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "quantize",
        help="write a Q/DQ (explicit INT8) ONNX model and print its accuracy against FP32 as JSON",
        description="Quantize a model with ONNX Runtime's static quantizer (settings: matrix/models/qdq.toml), "
        "calibrated on photos, then run the Q/DQ and the FP32 model in ONNX Runtime on the CPU and print, as "
        "JSON: qdq_onnx (the path), outputs (per output: cosine and max_abs, over all anchors and over the "
        "anchors FP32 scores as objects) and detection (recall and precision at IoU 0.5). "
        "TensorRT 8.x-10.x build the result with the INT8 flag, 11.x strongly typed.",
    )
    p.add_argument("--model", required=True, metavar="NAME", help=", ".join(INT8_MODELS))
    p.add_argument("--weights", type=Path, default=None, metavar="FILE", help="real weights (default: synthetic)")
    p.add_argument(
        "--images",
        type=Path,
        default=None,
        metavar="DIR",
        help="your own calibration photos (default: the bundled photos); also the evaluation photos "
        "unless --eval-images is given",
    )
    p.add_argument("--eval-images", type=Path, default=None, metavar="DIR", help="held-out photos to measure on")
    p.add_argument("--calib-count", type=int, default=None, metavar="N", help="calibration samples (default: qdq.toml)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for <model>.qdq.onnx")
    p.add_argument(
        "--sweep",
        action="store_true",
        help="measure every candidate setting instead (one JSON row each) and print the best",
    )
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="TOML",
        help="with --sweep: rewrite the generated measurements of this qdq.toml (repeat for each model: rows of "
        "other models are kept)",
    )
    p.set_defaults(func=run_quantize)


def _photos(folder: Path | None) -> list[Path] | None:
    from matrix.models import images

    return None if folder is None else images.images_in(folder)


def run_quantize(args: argparse.Namespace) -> int:
    from matrix.models import quantize_model

    if args.model not in INT8_MODELS:
        raise UserError(f"--model {args.model!r}: quantize takes the INT8 models: {', '.join(INT8_MODELS)}")
    if args.weights is not None and not args.weights.is_file():
        raise UserError(f"--weights {args.weights}: no such file")
    if args.calib_count is not None and args.calib_count < 1:
        raise UserError("--calib-count must be at least 1")
    if args.record is not None and not args.sweep:
        raise UserError("--record goes with --sweep")
    calib, evals = _photos(args.images), _photos(args.eval_images)
    if args.sweep:
        return _sweep(args, calib, evals)
    result = quantize_model.run(args.model, args.out, args.weights, calib, evals, args.calib_count)
    print(json.dumps(result, indent=2))
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this sweep (weights named by file name: they are not in the repo)."""
    parts = ["trt-matrix", "quantize", "--model", args.model]
    if args.weights is not None:
        parts += ["--weights", args.weights.name]
    for flag, value in (("--images", args.images), ("--eval-images", args.eval_images)):
        if value is not None:
            parts += [flag, value.name]
    if args.calib_count is not None:
        parts += ["--calib-count", str(args.calib_count)]
    parts += ["--out", "OUT", "--sweep", "--record", "matrix/models/qdq.toml"]
    return " ".join(shlex.quote(p) if " " in p else p for p in parts)


def _sweep(args: argparse.Namespace, calib: list[Path] | None, evals: list[Path] | None) -> int:
    from matrix.models import quantize, quantize_sweep

    previous = _previous_record(args.record)  # before the sweep: a bad file stops it before minutes of work
    count = args.calib_count or quantize.load_settings().calib_samples
    rows = quantize_sweep.sweep(
        args.model, args.weights, calib, evals, count, say=lambda m: print(m, file=sys.stderr, flush=True)
    )
    best = quantize_sweep.best(rows, args.model)
    print(json.dumps({"rows": rows, "best": best["candidate"]}, indent=2))
    key = (args.model, rows[0]["weights"])
    if args.record is not None:
        old_rows, old_commands = previous
        mine = _command(args)
        kept = [r for r in old_rows if (r.get("model"), r.get("weights")) != key]
        commands = [c for c in old_commands if c != mine]
        quantize_sweep.record(args.record, kept + rows, [*commands, mine], quantize.versions())
    return 0


def _previous_record(path: Path | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The measurements and commands an existing --record file holds (none when there is no file), checked
    for the shape `quantize_sweep.record` writes; a file of another shape is a UserError naming it."""
    if path is None:
        return [], []
    if not path.parent.is_dir():
        raise UserError(f"--record {path}: the folder {path.parent} does not exist")
    if not path.exists():
        return [], []
    from matrix.models import tomlload

    try:
        old = tomlload.load(path)
    except ValueError as exc:
        raise UserError(f"--record {exc}; give the generated qdq.toml, or a new file name") from None
    rows = old.get("measurement", [])
    measured = old.get("measured", {})
    commands = measured.get("commands", []) if isinstance(measured, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows) or not isinstance(commands, list):
        raise UserError(
            f"--record {path}: not a file `quantize --sweep --record` wrote ([[measurement]] tables and "
            "[measured] commands expected); give the generated qdq.toml, or a new file name"
        )
    return rows, [str(c) for c in commands]
