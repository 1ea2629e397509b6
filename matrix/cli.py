"""The `trt-matrix` command line.

Contract: each subcommand lives in `matrix/commands/<name>.py` with `register(subparsers)`, which adds
its parser and sets `func(args) -> int`; heavy imports happen inside `func`, so `--help` is instant.
A `UserError` becomes one line on stderr and exit code 2; Ctrl-C exits 130 after the command's own
cleanup.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from matrix import __version__
from matrix.errors import UserError

# Order is the order `trt-matrix --help` lists them in.
COMMANDS = (
    "run",
    "plan",
    "images",
    "models",
    "quantize",
    "inspect",
    "doctor",
    "api",
    "migrate",
    "report",
    "diff",
    "merge",
    "expectations",
    "releases",
)

DESCRIPTION = """\
A Dockerized multi-version TensorRT test matrix. Per-release images run the same suite (serialize,
cross-deserialize, toolchain, destroy-order, INT8, execute) and the results become a compatibility
table. Runs at the highest tier the machine allows: 0 (Python only), 1 (a GPU and one TensorRT),
2 (Docker with the NVIDIA container toolkit).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trt-matrix",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'trt-matrix COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"trt-matrix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"matrix.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"trt-matrix: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("trt-matrix: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `trt-matrix plan | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
