"""One module per `trt-matrix` subcommand: argument parsing only; the work is imported lazily.

`catalogue_option(p)` is the `--catalogue FILE` option every command that reads the release catalogue takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CATALOGUE_HELP = "a versions.toml to read instead of the packaged one"


def catalogue_option(p: Any, help_text: str = CATALOGUE_HELP) -> None:
    """Add `--catalogue FILE` (default None: the packaged matrix/versions.toml) to a parser or group."""
    p.add_argument("--catalogue", type=Path, default=None, metavar="FILE", help=help_text)
