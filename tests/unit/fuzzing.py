"""Structure-aware fuzzing of the files the project reads (docs/bad-input.md lists them).

`mutated(base)` draws one damage to a parsed document: at a node chosen anywhere in the tree, a
value of the wrong type, a field removed, an extra field, a huge or an empty value. `toml_text`
writes a document back as TOML (inline tables), so TOML readers see the damage through their text
path. `FUZZ` is the settings every reader's fuzz test uses: 1,000 examples where CI=true (measured
in docs/bad-input.md), fewer on a developer's machine.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = 1000 if os.environ.get("CI", "").lower() in ("1", "true", "yes") else 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["", "x" * 100_000, "pass", "trt86", "\x00", "é", "\u2028"]),
)
values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, base: Any, toml: bool = False) -> Any:
    """A deep copy of `base` with one node damaged (`toml`: no None anywhere, TOML has none)."""
    doc = copy.deepcopy(base)
    new = values.filter(lambda v: not _has_none(v)) if toml else values
    holder: Any = None
    key: Any = None
    node = doc
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        holder, key = node, draw(st.sampled_from(keys))
        node = node[key]
    action = draw(st.sampled_from(["replace", "delete", "extra", "empty", "huge"]))
    box = {"root": doc}
    if holder is None:  # the root itself
        holder, key = box, "root"
    if action == "replace":
        holder[key] = draw(new)
    elif action == "delete":
        del holder[key]
    elif action == "extra" and isinstance(holder, dict) and holder is not box:
        holder[draw(st.text(max_size=10))] = draw(new)
    elif action == "extra" and isinstance(holder, list):
        holder.append(draw(new))
    elif action == "extra":
        holder[key] = draw(new)
    elif action == "empty":
        holder[key] = type(holder[key])() if isinstance(holder[key], (str, list, dict)) else 0
    else:
        value = holder[key]
        holder[key] = value * 10_000 if isinstance(value, (str, list)) else 10**30 if isinstance(value, int) else value
    return box.get("root", type(doc)())


def _has_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return any(_has_none(v) for v in value)
    if isinstance(value, dict):
        return any(_has_none(v) for v in value.values())
    return False


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_text(doc: Any) -> str:
    """`doc` as TOML: a table's keys as `key = value` lines, nested tables and arrays inline."""
    if not isinstance(doc, dict):
        return f"value = {_toml_value(doc)}\n"
    return "".join(f"{json.dumps(str(k))} = {_toml_value(v)}\n" for k, v in doc.items())


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with one damage: replaced by random bytes, bytes inserted or written over, a flipped bit, a cut."""
    action = draw(st.sampled_from(["random", "insert", "overwrite", "flip", "cut"]))
    at = draw(st.integers(0, len(data)))
    if action == "random":
        return draw(st.binary(max_size=600))
    if action == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if action == "overwrite":
        junk = draw(st.binary(min_size=1, max_size=64))
        return data[:at] + junk + data[at + len(junk) :]
    if action == "flip" and at < len(data):
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    return data[:at]
