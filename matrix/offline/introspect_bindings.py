"""Run in a throwaway subprocess (never imported by the host): list the API of the `tensorrt` it imports.

Contract: `python -c <this file's text> OUT.json PROBE.py` imports `tensorrt` (the real bindings, from
`matrix.offline.standin.bindings_env`) and writes to OUT.json every public class, method, property, enum member
and module-level name as a qualified name (`IExecutionContext.execute_async_v3`, `BuilderFlag.INT8`,
`tensorrt.plugin.register`) with its kind and, where its documentation opens with "[DEPRECATED]" or
"Deprecated in", that note and where it was found. PROBE.py (matrix/suite/standin_probe.py) says which
loaded libnv* libraries are stand-ins.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
import types
from pathlib import Path
from typing import Any

MARKERS = ("[DEPRECATED]", "Deprecated in")
# Dunders every pybind11 class carries; the API surface lists the others a class defines itself
# (__del__, __getitem__, __len__, __enter__, ...).
NOISE = {
    "__doc__",
    "__module__",
    "__init__",
    "__new__",
    "__dict__",
    "__weakref__",
    "__hash__",
    "__annotations__",
}
names: dict[str, dict[str, Any]] = {}


def deprecation(doc: str | None) -> str | None:
    """The first line of `doc` that opens with a deprecation marker (after a `:class:` type), or None.

    Only an opening marker counts: 10.8's MemoryPoolType members mention "([DEPRECATED] ...)" of
    another interface mid-sentence, and they are not deprecated.
    """
    for line in (doc or "").splitlines():
        text = re.sub(r"^:class:`[^`]*`\s*", "", line.strip())
        if text.startswith(MARKERS):
            return " ".join(line.split())[:400]
    return None


def own_text(doc: str | None) -> str:
    """A class docstring without its member lists (`:ivar x:` lines, an enum's `Members:` section)."""
    kept = []
    for line in (doc or "").splitlines():
        if line.strip().startswith((":ivar", ":arg", ":param", "Members:")):
            break
        kept.append(line)
    return "\n".join(kept)


def ivar_docs(doc: str | None) -> dict[str, str]:
    """`:ivar name: text` lines of a class docstring: how pybind11 classes document their properties."""
    return dict(re.findall(r"^\s*:ivar (\w+):(.*)$", doc or "", re.MULTILINE))


def member_docs(doc: str | None) -> dict[str, str]:
    """An enum docstring's `Members:` section: `  NAME : text` entries, continuation lines kept as lines."""
    found: dict[str, str] = {}
    current = None
    section = (doc or "").split("Members:", 1)
    for line in section[1].splitlines() if len(section) == 2 else []:
        match = re.match(r"^\s{0,4}(\w+) : (.*)$", line)
        if match:
            current = match.group(1)
            found[current] = match.group(2)
        elif current and line.strip():
            found[current] += "\n" + line.strip()
    return found


def record(
    qualname: str,
    kind: str,
    doc: str | None,
    source: str = "doc",
    fallback: str | None = None,
    inherited_from: str | None = None,
) -> None:
    note, where = deprecation(doc), source
    if note is None and fallback is not None:
        note, where = deprecation(fallback), "ivar"
    names[qualname] = {"kind": kind, "deprecated": note, "deprecated_source": where if note else None}
    if inherited_from:
        names[qualname]["inherited_from"] = inherited_from


def owner(cls: type, attr: str) -> str | None:
    """The base class of `cls` in the bindings that defines `attr`, when it is not `cls` itself."""
    for base in cls.__mro__:
        if attr in vars(base):
            module = getattr(base, "__module__", "") or ""
            return base.__name__ if base is not cls and module.startswith("tensorrt") else None
    return None


def walk_class(qualname: str, cls: type, depth: int = 0) -> None:
    is_enum = hasattr(cls, "__members__")
    record(qualname, "enum" if is_enum else "class", own_text(cls.__doc__))
    if is_enum:
        docs = member_docs(cls.__doc__)
        for member in cls.__members__:  # type: ignore[attr-defined]
            record(f"{qualname}.{member}", "enum-member", docs.get(member), source="enum-doc")
        return
    ivars = ivar_docs(cls.__doc__)
    for attr in dir(cls):
        dunder = attr.startswith("__") and attr.endswith("__")
        if dunder and (attr in NOISE or attr not in vars(cls) or attr.startswith("__pybind11")):
            continue
        if attr.startswith("_") and not dunder:
            continue
        try:
            raw = inspect.getattr_static(cls, attr)
        except AttributeError:
            continue
        qual = f"{qualname}.{attr}"
        if isinstance(raw, type):
            if depth < 2:
                walk_class(qual, raw, depth + 1)
            continue
        base = owner(cls, attr)
        if isinstance(raw, property):
            record(qual, "property", raw.__doc__, fallback=ivars.get(attr), inherited_from=base)
        elif isinstance(raw, staticmethod | classmethod):
            record(qual, "staticmethod", getattr(raw.__func__, "__doc__", None), inherited_from=base)
        elif callable(raw):
            record(qual, "method", getattr(raw, "__doc__", None), fallback=ivars.get(attr), inherited_from=base)
        else:
            record(qual, "attribute", None, fallback=ivars.get(attr), inherited_from=base)


def walk_module(prefix: str, module: types.ModuleType, classes: bool) -> None:
    for attr in dir(module):
        if attr.startswith("_"):
            continue
        value = getattr(module, attr)
        qual = f"{prefix}{attr}"
        if isinstance(value, types.ModuleType):
            continue
        if isinstance(value, type) and classes:
            walk_class(qual, value)
        elif isinstance(value, type):
            record(qual, "class", own_text(value.__doc__))
        elif callable(value):
            record(qual, "function", getattr(value, "__doc__", None))
        else:
            record(qual, "attribute", None)


def main() -> None:
    out, probe_path = sys.argv[1], sys.argv[2]
    import tensorrt

    walk_module("", tensorrt, classes=True)
    plugin_error = None
    try:
        from tensorrt import plugin
    except ImportError as exc:
        shipped = any((Path(p) / "plugin" / "__init__.py").is_file() for p in tensorrt.__path__)
        if shipped:  # present in the wheel, but its imports (numpy) fail here: members unknown
            plugin_error = f"{type(exc).__name__}: {exc}"
            record("tensorrt.plugin", "module", None)
    else:
        record("tensorrt.plugin", "module", plugin.__doc__)
        walk_module("tensorrt.plugin.", plugin, classes=False)
    spec = importlib.util.spec_from_file_location("standin_probe", probe_path)
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    libraries = [p for p in probe.mapped_libraries() if "/libnv" in p]
    result = {
        "tensorrt_version": getattr(tensorrt, "__version__", None),
        "module_file": tensorrt.__file__,
        "python": sys.version.split()[0],
        "plugin_error": plugin_error,
        "libraries": {path: probe.is_standin_library(path) for path in libraries},
        "abi_markers": sorted({a for a in dir(tensorrt.ICudaEngine) if a.startswith("__pybind11")}),
        "names": names,
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
