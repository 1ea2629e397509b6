"""Which documented failures the TensorRT double shows: `TRT_MATRIX_DOUBLE_FAULTS=name,name`. Tests only.

Contract: the names are exactly the scenario names of tests/double/selftest.toml (`--inject` passes
them through). `active()` gives the names set (an unknown name raises ValueError: a misspelt fault
never silently does nothing); `on(name, release)` says whether a fault applies to a release (each
fault shows only on the releases its seed was reported on: SCOPE). `trtexec_release(bindings)` is the
release the trtexec double claims to be: the bindings' own, or under `trtexec-python-mismatch` one
whose plans the bindings refuse (the seed: trtexec 10.0.1 beside Python 8.4.3, NVIDIA/TensorRT#2983).
Standard library only, Python 3.8: the trtexec double (tests/double/bin/trtexec) reads it too.
"""

from __future__ import annotations

import os

VARIABLE = "TRT_MATRIX_DOUBLE_FAULTS"

# fault -> release prefixes it applies to ("" = every release). Sources: ../shared/research/known-issues.md
# (KI) and the seeds in selftest.toml.
SCOPE = {
    "retinaface-destroy-order": ("8.5", "8.6"),  # KI 1: reported on 8.5.2.2 and 8.6.x (the check appeared in 8.5)
    "yolov5-builder-destroy": ("8.5", "8.6"),  # tensorrtx#1405: 8.5.2.2 and 8.6.1.6
    "scrfd-v3-zeros": ("10.",),  # KI 3: 10.4.0 reported; selftest.toml selects every 10.x consumer
    "retinaface-int8-scales": ("8.6",),  # KI 2: 8.6.1.6 reported
    "trtexec-python-mismatch": ("",),
    "thread-no-context": ("",),
    "crash": ("",),
    "hang": ("",),
    "oom": ("",),
}
KNOWN = tuple(SCOPE)


def active(environ: dict[str, str] | None = None) -> frozenset[str]:
    env = os.environ if environ is None else environ
    names = frozenset(n.strip() for n in env.get(VARIABLE, "").split(",") if n.strip())
    unknown = sorted(names - set(KNOWN))
    if unknown:
        raise ValueError("{}: unknown fault(s) {}; known: {}".format(VARIABLE, ", ".join(unknown), ", ".join(KNOWN)))
    return names


def applies(name: str, release: str) -> bool:
    """Whether fault `name` shows on `release` (a version such as 8.6.1 or 10.8.0.43) when it is set."""
    return any(release.startswith(prefix) for prefix in SCOPE[name])


def on(name: str, release: str, environ: dict[str, str] | None = None) -> bool:
    return name in active(environ) and applies(name, release)


def trtexec_release(bindings: str, environ: dict[str, str] | None = None) -> str:
    """The release the trtexec double is: `bindings` (the TRT_MATRIX_DOUBLE release), or under
    trtexec-python-mismatch another major release whose serialization tag differs, so the bindings
    refuse its plans with the tag line (plan_facts.toml [messages]) and the banners disagree."""
    if not on("trtexec-python-mismatch", bindings, environ):
        return bindings
    return "10.0.1" if bindings.startswith("8.") else "8.6.1"
