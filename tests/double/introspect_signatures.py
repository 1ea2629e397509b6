"""Print the pybind11 signatures of the REAL bindings in this Python as JSON (run inside a bindings env).

`python -m tests.double.introspect_signatures` with the environment of
matrix.offline.standin.bindings_env(version) (tests/double/generate_signatures.py does that) prints one
JSON object: {"Class.method": ["method(self: tensorrt.tensorrt.Class, ...) -> T", ...]}, one entry per
overload, read from the first lines of each callable's docstring, for every class and free function.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_OVERLOAD = re.compile(r"^\d+\. (.+)$")


def signatures(name: str, doc: str | None) -> list[str]:
    """The pybind11 signature lines of one callable (several when it is 'Overloaded function.')."""
    if not doc:
        return []
    lines = [line.strip() for line in doc.strip().splitlines()]
    if "Overloaded function." in lines[:2]:  # newer pybind11 puts `name(*args, **kwargs)` first
        return [m.group(1) for m in map(_OVERLOAD.match, lines) if m and m.group(1).startswith(name + "(")]
    return [lines[0]] if lines and lines[0].startswith(name + "(") else []


def walk(module: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if isinstance(obj, type):
            for attr in list(vars(obj)):
                if attr.startswith("_") and attr != "__init__":
                    continue
                value = vars(obj)[attr]
                if callable(value) and not isinstance(value, type):
                    found = signatures(attr, getattr(value, "__doc__", None))
                    if found:
                        out[f"{name}.{attr}"] = found
        elif callable(obj):
            found = signatures(name, getattr(obj, "__doc__", None))
            if found:
                out[name] = found
    return out


def main() -> None:
    import tensorrt

    sys.stdout.write(json.dumps({"tensorrt_version": tensorrt.__version__, "signatures": walk(tensorrt)}) + "\n")


if __name__ == "__main__":
    main()
