"""Read a TOML file on Python 3.8 to 3.14: tomllib when there, tomli otherwise (the images install it).

Contract: `load(path)` returns the parsed dict or raises `ValueError` naming the file and the problem.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib as toml  # novermin - guarded: only on 3.11+
    else:
        try:
            import tomli as toml
        except ImportError:
            raise ValueError(
                "{}: reading TOML on Python {}.{} needs tomli (pip install tomli)".format(path, *sys.version_info[:2])
            ) from None
    try:
        data: dict[str, Any] = toml.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:  # a ValueError too, but its message does not name the file
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
    except (OSError, toml.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return data
