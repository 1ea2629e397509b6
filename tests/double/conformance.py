"""Compare the double's modelled methods with the real bindings' pybind11 signatures.

Contract: `parse(line)` turns one pybind11 signature line (`set_tensor_address(self: tensorrt.tensorrt.
IExecutionContext, name: str, memory: int) -> bool`) into a `Signature` (parameter names and defaults,
types dropped); `of_function(fn)` does the same for a model function; `mismatches(models, real)` lists,
per modelled method the release has, every difference in names, count, defaults or overloads, as text.
A modelled method must equal one real overload exactly; the others must be named in `unmodelled` with the
reason in UNMODELLED. Run with the double imported: tests/double/test_conformance.py does it in a
subprocess per release, on the methods the built double exposes for that release.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any, Callable, Mapping

# Real overloads the double does not model, each with why (calling one fails with a TypeError or a
# NotModelled error, never a silent success).
UNMODELLED = {
    "ICudaEngine.binding_is_input(self, name)": "8.x name overloads of the binding API: the checks pass indices",
    "ICudaEngine.get_binding_dtype(self, name)": "8.x name overloads of the binding API: the checks pass indices",
    "ICudaEngine.get_binding_shape(self, name)": "8.x name overloads of the binding API: the checks pass indices",
    "Runtime.deserialize_cuda_engine(self, stream_reader)": "IStreamReader: the checks deserialize from bytes",
    "Runtime.deserialize_cuda_engine(self, stream_reader_v2)": "IStreamReaderV2: the checks deserialize from bytes",
    "Builder.build_serialized_network(self, network, config, kernel_text)": "10.16+/11.x kernel text: unused",
    "ICudaEngine.create_execution_context(self, runtime_config=None)": "IRuntimeConfig (10.16+): unused",
    "Weights.__init__(self, a)": "served by the modelled overload, which takes an ndarray as pybind11 would pick",
    "Weights.__init__(self, type, ptr, count)": "raw pointers (10.x+): netdef passes arrays",
    "PluginField.__init__(self, name='')": "an empty field: netdef passes name, data and type",
    "PluginFieldCollection.__init__(self)": "an empty collection: netdef passes its fields",
}
# Methods the bindings define on a base class and document only there (py::class_<IActivationLayer, ILayer>):
# a subclass method is compared with the base's signature.
INHERITED_FROM = (("Layer", "ILayer"),)

_OPEN, _CLOSE = "([<{", ")]>}"
_ENUM_DEFAULT = re.compile(r"^<(\w+)\.(\w+): -?\d+>$")


@dataclasses.dataclass(frozen=True)
class Signature:
    """Parameter (name, default-or-None) pairs, `self` included; a default is normalised text."""

    params: tuple[tuple[str, Any], ...]

    def __str__(self) -> str:
        return "(" + ", ".join(n if d is None else f"{n}={d}" for n, d in self.params) + ")"


def _split(text: str) -> list[str]:
    """Split at commas outside brackets (types such as list[tuple[int, int]], defaults such as <A.B: 2>)."""
    parts: list[str] = []
    depth, cur = 0, ""
    for i, ch in enumerate(text):
        if ch in _OPEN and not (ch == "<" and text[i - 1 : i] == "-"):
            depth += 1
        elif ch in _CLOSE and not (ch == ">" and text[i - 1 : i] == "-"):
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _norm_default(text: str) -> str:
    enum = _ENUM_DEFAULT.match(text.strip())
    return f"{enum.group(1)}.{enum.group(2)}" if enum else text.strip()


def parse(line: str) -> Signature:
    start = line.index("(")
    depth, end = 0, start
    for end in range(start, len(line)):
        if line[end] in "([":
            depth += 1
        elif line[end] in ")]":
            depth -= 1
            if depth == 0:
                break
    params = []
    for part in _split(line[start + 1 : end]):
        head, _, default = part.partition(" = ")
        name = head.split(":", 1)[0].strip()
        params.append((name, _norm_default(default) if default else None))
    return Signature(tuple(params))


def _model_default(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return None
    if isinstance(value, (bool, int, float, str)) or value is None or type(value).__name__ == "EnumDefault":
        return repr(value)  # EnumDefault's repr is `Enum.MEMBER`, as _norm_default writes the real one
    return f"<unnormalised default {value!r}>"


def of_function(fn: Callable[..., Any]) -> Signature:
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            params.append((("*" if p.kind == p.VAR_POSITIONAL else "**") + p.name, None))
        else:
            params.append((p.name, _model_default(p.default)))
    return Signature(tuple(params))


def modelled_methods(models: Mapping[str, type], built: Any = None) -> dict[str, Callable[..., Any]]:
    """{"Class.method": function} for every public method (and __init__) a model class defines or
    inherits; with `built` (the imported double), the functions its classes expose for its release."""
    out: dict[str, Callable[..., Any]] = {}
    for qual, model in models.items():
        for klass in reversed(model.__mro__[:-1]):
            for attr, value in vars(klass).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if inspect.isfunction(value):
                    out[f"{qual}.{attr}"] = value
                elif not isinstance(value, property) and f"{qual}.{attr}" in out:
                    del out[f"{qual}.{attr}"]
    if built is None:
        return out
    exposed: dict[str, Callable[..., Any]] = {}
    for qual in out:
        cls, attr = qual.rsplit(".", 1)
        value = vars(getattr(built, cls, object)).get(attr)
        if inspect.isfunction(value):
            exposed[qual] = value
    return exposed


def mismatches(
    methods: Mapping[str, Callable[..., Any]],
    real: Mapping[str, list[str]],
    names: Mapping[str, str],
    unmodelled: Mapping[str, str],
) -> list[str]:
    """Every difference between the modelled methods and the release's real signatures, as text.

    `names`: the release's surface (name -> kind), to tell 'the release lacks it' (no method exposed, no
    comparison) from 'the release has it but not as a method'; `unmodelled`: "Class.method(sig)" -> why.
    """
    problems = []
    for qual, fn in sorted(methods.items()):
        if qual not in names and not qual.endswith(".__init__"):
            continue  # the double does not expose it on this release
        lines = real.get(qual) or _inherited(qual, real)
        if not lines:
            if qual.endswith(".__init__") and qual.rsplit(".", 1)[0] in names:
                problems.append(f"{qual}: the double has a constructor the bindings do not document")
            elif qual in names:
                problems.append(f"{qual}: the bindings have a {names[qual]} here, the double a method")
            continue
        mine = of_function(fn)
        theirs = [parse(line) for line in lines]
        if mine not in theirs:
            problems.append(f"{qual}{mine} differs from the real {' | '.join(str(s) for s in theirs)}")
            continue
        for other in theirs:
            if other != mine and f"{qual}{other}" not in unmodelled:
                problems.append(f"{qual}{other}: a real overload the double neither models nor lists as unmodelled")
    return problems


def _inherited(qual: str, real: Mapping[str, list[str]]) -> list[str] | None:
    cls, attr = qual.rsplit(".", 1)
    for suffix, base in INHERITED_FROM:
        if cls.endswith(suffix) and cls != base and attr != "__init__":
            return real.get(f"{base}.{attr}")
    return None


def release_names(snapshot: Mapping[str, Any], release: str) -> dict[str, str]:
    """name -> kind of one release, from matrix/offline/api_snapshot.json ('present' holds index ranges)."""
    index = list(snapshot["releases"]).index(release)
    out = {}
    for name, entry in snapshot["names"].items():
        for span in str(entry["present"]).split(","):
            low, _, high = span.partition("-")
            if low.strip() and int(low) <= index <= int(high or low):
                out[name] = entry["kind"]
                break
    return out
