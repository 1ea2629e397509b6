"""`trt-matrix releases`: the catalogue, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from matrix.commands import catalogue_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "releases",
        help="list the tracked TensorRT releases (matrix/versions.toml)",
        description="List the releases in the catalogue with their base image, CUDA, Python and pins. "
        "Facts come with their source URL and how strong the evidence is.",
    )
    catalogue_option(p)
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix import catalogue

    cat = catalogue.load(args.catalogue)
    if args.json:
        print(json.dumps([r.to_json() for r in cat.releases], indent=2))
        return 0
    rows = [("id", "TensorRT", "base image", "install", "CUDA", "Python", "numpy", "compute capabilities")]
    for r in cat.releases:
        rows.append(
            (
                r.id,
                r.tensorrt,
                r.base_ref,
                r.install,
                r.cuda,
                r.python,
                r.numpy,
                " ".join(r.compute_capabilities),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
