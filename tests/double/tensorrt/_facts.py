"""Whether the double's runtime accepts plan bytes, and the line it logs when it does not.

Rules and message texts: matrix/offline/plan_facts.toml ([messages], [compatibility]) and
../shared/research/plan-header.md "What a runtime accepts"; headers read with matrix/suite/planfile.py.
"""

from __future__ import annotations

from matrix.suite import planfile

from tensorrt import _plan

# plan_facts.toml [messages] (sources there: NVIDIA/TensorRT#2072, ultralytics#4597, #20053, ...)
TAG_8 = (
    "Serialization assertion stdVersionRead == serializationVersion failed.Version tag does not match. "
    "Note: Current Version: {runtime_tag}, Serialized Engine Version: {plan_tag}"
)
TAG_LATER = (
    "Serialization assertion stdVersionRead == kSERIALIZATION_VERSION failed.Version tag does not match. "
    "Note: Current Version: {runtime_tag}, Serialized Engine Version: {plan_tag}"
)
OTHER_BUILD = (
    "The engine plan file is not compatible with this version of TensorRT, expecting library version "
    "{runtime_build} got {plan_build}, please rebuild."
)
NOT_A_PLAN_8 = "Serialization assertion plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed."
NOT_A_PLAN_LATER = "incompatible serialization version ({first_u32} != 1953657958)"
HOST_CODE = (
    "Serialization assertion engine_host_code_allowed: a version-compatible plan needs engine_host_code_allowed = True"
)
CROSS_MAJOR = ((8, 10), (10, 11))  # plan_facts.toml [compatibility] cross_major


def verdict(data: bytes, runtime: str, host_code: bool) -> str | None:
    """None if this runtime would load the plan, else the refusal text."""
    major = int(runtime.split(".", maxsplit=1)[0])
    try:
        plan = planfile.inspect_bytes(data)
    except planfile.PlanFileError:
        plan = None
    if plan is None or plan.kind != planfile.KIND_PLAN or plan.builder_version is None:
        first = int.from_bytes(bytes(data[:4]).ljust(4, b"\0"), "little")
        return NOT_A_PLAN_8.format() if major == 8 else NOT_A_PLAN_LATER.format(first_u32=first)
    built = plan.builder_version
    mine = _plan.version_tuple(runtime)
    found = _plan.read_payload(data)
    vc = found is not None and "VERSION_COMPATIBLE" in found[0].get("flags", [])
    if vc and built[:2] >= (8, 6) and ((built[0] == mine[0] and built <= mine) or (built[0], mine[0]) in CROSS_MAJOR):
        # plan-header.md: a version-compatible plan embeds a lean runtime and needs host code allowed
        return None if host_code or built[:3] == mine[:3] else HOST_CODE
    tag, runtime_tag = plan.serialization_tag, _plan.tag_of(runtime)
    if tag != runtime_tag:
        return (TAG_8 if major == 8 else TAG_LATER).format(runtime_tag=runtime_tag, plan_tag=tag)
    if built[:3] != mine[:3]:
        return OTHER_BUILD.format(runtime_build=".".join(map(str, mine)), plan_build=".".join(map(str, built)))
    return None
