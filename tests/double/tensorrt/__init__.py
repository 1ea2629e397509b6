"""The TensorRT double: a pure-Python `tensorrt` for tests and the harness self-test. NOT TensorRT.

`TRT_MATRIX_DOUBLE=<version>` (prefix match against the snapshots in surface/) picks the release it
behaves as. Its names are exactly that release's (surface/<version>.json, generated from the real
bindings' introspection by tests/double/generate_surface.py; 8.4/8.5 inferred, see the file's
"inferred" entry): a name the release lacks is absent, a name it has that _model.py does not model is
present but raises `NotModelled` ("the TensorRT double does not model X.y") when used. Behaviour
(_model.py) comes from NVIDIA's documentation and ../shared/research/, each rule citing its source.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tensorrt import _dims, _model

_SURFACES = Path(__file__).resolve().parent / "surface"


class NotModelled(Exception):
    """A name the release has and the double does not model (not a RuntimeError: never a TensorRT verdict)."""


def _pick() -> dict[str, Any]:
    wanted = os.environ.get("TRT_MATRIX_DOUBLE", "").strip()
    known = sorted(p.stem for p in _SURFACES.glob("*.json"))
    if not wanted:
        raise ImportError("the TensorRT double needs TRT_MATRIX_DOUBLE=<version> (one of: {})".format(", ".join(known)))
    matches = [v for v in known if f"{v}.".startswith(f"{wanted}.") or f"{wanted}.".startswith(f"{v}.")]
    if len(matches) != 1:
        raise ImportError(f"TRT_MATRIX_DOUBLE={wanted} matches {matches or 'no'} snapshot (known: {', '.join(known)})")
    return dict(json.loads((_SURFACES / f"{matches[0]}.json").read_text(encoding="utf-8")))


_SNAPSHOT = _pick()
__trt_matrix_double__: str = _SNAPSHOT["release"]
# The documented failures this process shows (TRT_MATRIX_DOUBLE_FAULTS, tests/double/faults.py): the environment
# probe records them with the double's version, so a report names the injected scenario, not a look-alike.
__trt_matrix_double_faults__: tuple[str, ...] = tuple(sorted(__import__("faults").active()))
__version__: str = _SNAPSHOT["tensorrt_version"]
INFERRED = _SNAPSHOT["inferred"]
_NAMES: dict[str, str] = _SNAPSHOT["names"]


class _Gap:
    """A present-but-unmodelled name: visible to hasattr on the class, loud when used."""

    def __init__(self, qualname: str, kind: str) -> None:
        self.qualname, self.kind = qualname, kind

    def _raise(self, *args: Any, **kwargs: Any) -> Any:
        raise NotModelled(f"the TensorRT double does not model {self.qualname}")

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        if self.kind == "property":
            self._raise()
        return self._raise

    def __set__(self, obj: Any, value: Any) -> None:
        self._raise()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._raise()


def _do_nothing_del(self: Any) -> None:
    """Real bindings bind __del__ to a no-op; the holder's dealloc frees the object."""


def _children(qual: str) -> dict[str, str]:
    prefix = qual + "."
    return {n[len(prefix) :]: k for n, k in _NAMES.items() if n.startswith(prefix) and "." not in n[len(prefix) :]}


def _make_enum(qual: str) -> type:
    members = [m for m, k in _children(qual).items() if k == "enum-member"]
    values = _model.ENUM_VALUES.get(qual.rsplit(".", 1)[-1], {})
    cls = type(qual.rsplit(".", 1)[-1], (_model.EnumMember,), {"__module__": "tensorrt", "__qualname__": qual})
    table = {}
    for i, name in enumerate(members):
        table[name] = cls(name, values.get(name, i))
        setattr(cls, name, table[name])
    cls.__members__ = table  # type: ignore[attr-defined]
    return cls


def _make_class(qual: str) -> type:
    model = _model.MODELS.get(qual) or _dims.MODELS.get(qual)
    ns: dict[str, Any] = {"__module__": "tensorrt", "__qualname__": qual, "__doc__": f"TensorRT double of {qual}"}
    children = _children(qual)
    if model is not None:  # private helpers and the constructor; public names only where the release has them
        for klass in reversed(model.__mro__[:-1]):
            for attr, value in vars(klass).items():
                if attr == "__init__" or (attr.startswith("_") and not attr.startswith("__")):
                    ns[attr] = value
    enums = {}
    for attr, kind in children.items():
        if kind == "enum":
            ns[attr] = enums[attr] = _make_enum(f"{qual}.{attr}")
        elif kind == "class":
            ns[attr] = _make_class(f"{qual}.{attr}")
    for attr, kind in children.items():
        if kind in ("enum", "class"):
            continue
        alias = [getattr(e, attr) for e in enums.values() if attr in e.__members__]  # type: ignore[attr-defined]
        if alias:  # Logger.WARNING and the like: aliases of the nested Severity enum
            ns[attr] = alias[0]
        elif model is not None and any(attr in vars(k) for k in model.__mro__[:-1]):
            found = next(vars(k)[attr] for k in model.__mro__[:-1] if attr in vars(k))
            ns[attr] = _model.for_release(found, _SNAPSHOT["release"])  # per-release signatures
        elif attr == "__del__":
            ns[attr] = _do_nothing_del  # pybind11 utils::doNothingDel (research note 'Builder.__del__')
        else:
            ns[attr] = _Gap(f"{qual}.{attr}", kind)
    if model is not None and any("__setattr__" in vars(k) for k in model.__mro__[:-1]):
        ns["__setattr__"] = next(vars(k)["__setattr__"] for k in model.__mro__[:-1] if "__setattr__" in vars(k))
    if model is not None and "__del__" in vars(_model._Owned) and issubclass(model, _model._Owned):
        ns["__del__"] = _model._Owned.__del__
    bases = (bytes,) if qual == "IHostMemory" else ()
    return type(qual, bases, ns)


def _build() -> None:
    space = globals()
    for name, kind in sorted(_NAMES.items()):
        if "." in name:
            continue
        if kind == "enum":
            space[name] = _make_enum(name)
        elif kind == "class":
            space[name] = _make_class(name)
        elif name in _model.FUNCTIONS:
            space[name] = _model.FUNCTIONS[name]
        else:
            space[name] = _Gap(name, kind)
    _model.bind(space)


_build()
