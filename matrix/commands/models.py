"""`trt-matrix models`: list the models, export them with references, run the reference detector."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from matrix.errors import UserError

MODEL_NAMES = ("retinaface-mnet", "retinaface-r50", "scrfd-500m", "scrfd-2.5g", "yolov5s")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="the models (RetinaFace, SCRFD, YOLOv5s): list, export with FP32 references, detect",
        description="RetinaFace mobilenet0.25/ResNet-50, SCRFD 500M/2.5G and YOLOv5s v6.0, built as ONNX "
        "with deterministic synthetic weights unless real ones are given.",
    )
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    msub.required = True

    ls = msub.add_parser("list", help="name each model with its input, outputs and default weights")
    ls.add_argument("--json", action="store_true", help="print the registry as JSON")
    ls.set_defaults(func=run_list)

    ex = msub.add_parser(
        "export",
        help="write DIR/models/<name>/ with model.onnx, reference.npz, meta.json and calib/",
        description="Build each model's ONNX, check it, run it in ONNX Runtime on the CPU on a fixed photo "
        "and store the outputs as the FP32 reference every image compares against, plus calibration batches.",
    )
    ex.add_argument("--models", nargs="+", metavar="NAME", default=list(MODEL_NAMES), help="default: all")
    ex.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="real weights for a model (.pth state dict or tensorrtx .wts); others stay synthetic",
    )
    ex.add_argument("--artifacts", type=Path, required=True, metavar="DIR", help="output folder")
    ex.add_argument(
        "--images",
        type=Path,
        default=None,
        metavar="DIR",
        help="your own calibration photos (default: the bundled photos); also the evaluation photos of the INT8 "
        "and FP16 accuracy checks unless --eval-images is given",
    )
    ex.add_argument("--eval-images", type=Path, default=None, metavar="DIR", help="photos for detection accuracy")
    ex.add_argument("--no-qdq", action="store_true", help="skip model.qdq.onnx (the explicit-INT8 model)")
    ex.add_argument(
        "--calib-count", type=int, default=16, metavar="N", help="calibration samples per model (default: 16)"
    )
    ex.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    ex.set_defaults(func=run_export)

    de = msub.add_parser(
        "detect",
        help="run the reference pipeline (ONNX Runtime) on images and print detections as JSON",
        description="Pre-process, run in ONNX Runtime, decode and NMS; boxes and landmarks in image pixels.",
    )
    de.add_argument("--model", required=True, metavar="NAME", help=", ".join(MODEL_NAMES) + " (or 'scrfd')")
    de.add_argument(
        "--weights",
        type=Path,
        default=None,
        metavar="FILE",
        help="real weights: .pth / .wts, or for SCRFD an insightface .onnx used as it is",
    )
    de.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    de.add_argument("--draw", type=Path, default=None, metavar="OUT.png", help="draw boxes and landmarks")
    de.add_argument("--threshold", type=float, default=None, metavar="T", help="score threshold")
    de.set_defaults(func=run_detect)


def run_list(args: argparse.Namespace) -> int:
    from matrix.models import registry

    specs = [registry.get(n) for n in registry.names()]
    if args.json:
        print(json.dumps([s.to_json() for s in specs], indent=2))
        return 0
    for s in specs:
        outs = ", ".join(f"{o.name} {list(o.shape)}" for o in s.outputs)
        print(f"{s.name}  ({s.family} {s.variant})")
        print(f"    input    {s.input_name} {list(s.input_shape)}")
        print(f"    outputs  {outs}")
        print(
            "    weights  {} by default; real: {}{}".format(
                s.weights_default,
                " ".join(s.weights_formats),
                "; network definition: yes" if s.netdef else "",
            )
        )
    return 0


def parse_weights(items: list[str], models: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise UserError(f"--weights {item!r}: expected NAME=FILE, e.g. retinaface-mnet=mobilenet0.25_Final.pth")
        if name not in MODEL_NAMES:
            raise UserError(
                "--weights {!r}: unknown model {!r}; the models are: {}".format(item, name, ", ".join(MODEL_NAMES))
            )
        if name not in models:
            raise UserError(f"--weights {item!r}: {name} is not among --models")
        path = Path(file)
        if not path.is_file():
            raise UserError(f"--weights {item!r}: {path}: no such file")
        out[name] = path
    return out


def run_export(args: argparse.Namespace) -> int:
    from matrix.models import images, reference

    for name in args.models:
        if name not in MODEL_NAMES:
            raise UserError("unknown model {!r}; the models are: {}".format(name, ", ".join(MODEL_NAMES)))
    if args.calib_count < 1:
        raise UserError("--calib-count must be at least 1")
    weights = parse_weights(args.weights, args.models)
    photos = images.images_in(args.images) if args.images is not None else None
    evals = images.images_in(args.eval_images) if args.eval_images is not None else None
    total = len(args.models)
    for i, name in enumerate(args.models, start=1):
        start = time.monotonic()

        def say(msg: str, i: int = i, name: str = name) -> None:
            print(f"[{i}/{total}] {name}: {msg}", file=sys.stderr, flush=True)

        out = reference.export_model(
            name,
            args.artifacts,
            weights_path=weights.get(name),
            seed=args.seed,
            photos=photos,
            calib_count=args.calib_count,
            say=say,
            eval_photos=evals,
            qdq=not args.no_qdq,
        )
        say(f"done in {time.monotonic() - start:.1f} s -> {out}")
    return 0


def _draw_path(base: Path, image: Path, many: bool) -> Path:
    return base if not many else base.with_name("{}-{}{}".format(base.stem, image.stem, base.suffix or ".png"))


def run_detect(args: argparse.Namespace) -> int:
    from matrix.models import images, reference, registry
    from matrix.models.preprocess import preprocess

    runner = reference.runner_for(args.model, args.weights)
    spec = runner.spec
    results: list[dict[str, Any]] = []
    loaded = [(p, images.read_image(p)) for p in args.images]  # every file is checked before any work
    for path, img in loaded:
        x, box = preprocess(img, spec.preprocess)
        threshold: float | None = args.threshold
        dets = registry.decode(spec, runner.outputs(x), box, threshold)
        results.append(
            {
                "image": str(path),
                "model": spec.name,
                "weights": runner.weights_label,
                "detections": [d.to_json() for d in dets],
            }
        )
        if args.draw is not None:
            images.draw(img, dets, _draw_path(args.draw, path, len(loaded) > 1))
    print(json.dumps(results, indent=2))
    return 0
