"""Would a runtime of a given TensorRT version load this plan? Decided from the header alone.

Contract: `decide(plan, runtime_parts, runtime_text, facts)` gives one frozen `Decision`: a status
(`loads`, `refused`, `loads-if-version-compatible` or `unknown`), a reason, and where the research
quotes it the log line TensorRT prints when it refuses. It never guesses: when a runtime is named only
by series (8.4.1) and the plan's exact build cannot be compared with certainty, the status is
`unknown` and says why. Facts (tags, messages, cross-major pairs) live in `facts.toml`. The public face
of this is `matrix.plans.will_load`; this module is internal (not covered by its stability promise).
Python 3.8+, standard library (and tomli before 3.11) only.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from pathlib import Path
from typing import Any, Literal, Sequence, Tuple

from matrix.errors import UserError
from matrix.suite import planfile

FACTS_PATH = Path(__file__).with_name("facts.toml")

LogLine = Tuple[str, str]  # (text TensorRT logs, where that text was reported); ("", "") when none
NO_LOG: LogLine = ("", "")
Status = Literal["loads", "refused", "loads-if-version-compatible", "unknown"]
STATUSES: tuple[Status, ...] = ("loads", "refused", "loads-if-version-compatible", "unknown")
_POST = re.compile(r"^([0-9]+(?:\.[0-9]+){1,3})(?:\.post[0-9]+)?(?:[+-].*)?$")


@dataclasses.dataclass(frozen=True)
class Decision:
    """One runtime's answer for one file."""

    status: Status
    reason: str
    log_line: str = ""
    log_source: str = ""


@dataclasses.dataclass(frozen=True)
class PlanFacts:
    """`facts.toml`, validated."""

    tags: tuple[tuple[int, tuple[str, ...]], ...]
    vc_from: tuple[int, ...]
    cross_major: frozenset[tuple[int, int]]
    messages: tuple[tuple[str, str], ...]

    def tag_of(self, series: str) -> int | None:
        """The serialization tag a runtime of `series` ('8.4') expects, when the research knows it."""
        for tag, names in self.tags:
            if series in names:
                return tag
        return None

    def log(self, key: str, **values: object) -> LogLine:
        """A quoted log line, filled in, with where it was reported."""
        messages = dict(self.messages)
        return messages[key].format(**values), messages.get(f"{key}_source", "")


def _toml(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # novermin - guarded: only on 3.11+
    else:  # pragma: no cover - exercised on 3.8-3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


def load_facts(path: Path | None = None) -> PlanFacts:
    """The packaged facts (or `path`); a broken file is a UserError naming it."""
    path = path or FACTS_PATH
    try:
        data = _toml(path.read_text(encoding="utf-8"))
        tags = tuple((int(row["tag"]), tuple(str(s) for s in row["series"])) for row in data["tag"] if row["series"])
        compat = data["compatibility"]
        vc_from = tuple(int(p) for p in str(compat["version_compatible_from"]).split("."))
        cross = frozenset((int(a), int(b)) for a, b in compat["cross_major"])
        messages = tuple((str(k), str(v)) for k, v in data["messages"].items())
    except (OSError, KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        # TOMLDecodeError and UnicodeDecodeError are ValueErrors; AttributeError: a table that is no table
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise UserError(f"{path}: not a valid plan-facts file ({detail})") from None
    texts = dict(messages)
    for key in MESSAGE_KEYS:
        try:
            texts[key].format(**_PLACEHOLDERS)
        except KeyError as exc:
            what = "is missing" if key not in texts else f"names an unknown placeholder {exc}"
            raise UserError(f"{path}: not a valid plan-facts file (messages.{key} {what})") from None
        except (IndexError, ValueError, AttributeError, TypeError) as exc:
            raise UserError(f"{path}: not a valid plan-facts file (messages.{key}: {exc})") from None
    return PlanFacts(tags=tags, vc_from=vc_from, cross_major=cross, messages=messages)


# The log lines `decide` quotes, and the placeholders they may use (facts.toml [messages]).
MESSAGE_KEYS = (
    "tag_mismatch_8",
    "tag_mismatch_later",
    "legacy_plan_in_8",
    "same_tag_other_build",
    "not_a_plan_8",
    "not_a_plan_later",
    "ptrt_plan_later",
)
_PLACEHOLDERS = {"runtime_tag": 0, "plan_tag": 0, "runtime_build": "", "plan_build": "", "first_u32": 0}


def runtime_parts(text: str) -> tuple[int, ...] | None:
    """'10.14.1.48.post1' -> (10, 14, 1, 48) (a post release repackages the same build); None if unreadable."""
    found = _POST.match(text.strip())
    return None if found is None else tuple(int(p) for p in found.group(1).split("."))


def _dotted(parts: Sequence[int]) -> str:
    return ".".join(str(p) for p in parts)


def _refusal_log(
    plan: planfile.PlanFile, runtime: tuple[int, ...], facts: PlanFacts, runtime_tag: int | None
) -> LogLine:
    """The log line a refusal prints, where the research quotes it for this pair of formats."""
    plan_tag, build = plan.serialization_tag, plan.builder_version
    if plan_tag is None or build is None:
        return NO_LOG
    runtime_series = f"{runtime[0]}.{runtime[1]}"
    ftrt_runtime = runtime[:2] >= facts.vc_from  # 8.6 on read ftrt containers
    if plan.magic == "ptrt" and runtime[0] >= 10:
        first = int.from_bytes(planfile.MAGIC_PTRT, "little")
        return facts.log("ptrt_plan_later", first_u32=first)
    if (plan.magic == "ftrt") != ftrt_runtime:
        return NO_LOG  # a ptrt plan in an ftrt-era runtime (or the reverse): no message is on record
    if plan.plan is not None and plan.plan.layout == "legacy-24" and runtime[:2] >= (8, 2):
        return facts.log("legacy_plan_in_8", plan_tag=plan_tag)
    if build[0] != runtime[0]:
        return NO_LOG  # across majors no message is on record
    if runtime_tag is not None and runtime_tag != plan_tag:
        key = "tag_mismatch_8" if runtime[0] <= 8 else "tag_mismatch_later"
        return facts.log(key, runtime_tag=runtime_tag, plan_tag=plan_tag)
    if runtime_tag == plan_tag and facts.tag_of(runtime_series) is not None:
        # Two builds of one series share the tag; the runtime then names its own full build, which the
        # catalogue may give only to three parts ("8.5.3"): the fourth is shown as "x".
        runtime_build = _dotted(runtime) if len(runtime) >= 4 else _dotted(runtime) + ".x"
        return facts.log("same_tag_other_build", runtime_build=runtime_build, plan_build=_dotted(build))
    return NO_LOG


def _make(status: Status, reason: str, log: LogLine = NO_LOG) -> Decision:
    return Decision(status=status, reason=reason, log_line=log[0], log_source=log[1])


def _plan_decision(plan: planfile.PlanFile, runtime: tuple[int, ...], runtime_text: str, facts: PlanFacts) -> Decision:
    series = f"{runtime[0]}.{runtime[1]}"
    runtime_tag = facts.tag_of(series)
    build = plan.builder_version
    here = f"this runtime is {runtime_text}"
    if build is None:
        tag = plan.serialization_tag
        if tag is not None and runtime_tag is not None and tag != runtime_tag:
            return _make(
                "refused",
                f"serialization tag {tag}, {here} (tag {runtime_tag}); the builder version is not readable",
            )
        return _make(
            "unknown",
            "the builder version is not readable from the header"
            + (f" and the tag {tag} does not settle it" if tag is not None else ""),
        )
    built = _dotted(build)
    log = _refusal_log(plan, runtime, facts, runtime_tag)
    vc_capable = build[:2] >= facts.vc_from
    if tuple(build[: len(runtime)]) == runtime:
        if len(runtime) >= 4:
            return _make(
                "loads",
                f"built by {built}, the same build as this runtime (on the GPU architecture and OS it was "
                "built for, unless built hardware-compatible)",
            )
        alt = "; a version-compatible plan would also load in a later build" if vc_capable else ""
        return _make(
            "unknown",
            f"built by {built}; the runtime is named only as {runtime_text}, so whether it is exactly "
            f"{built} is not known (another {runtime_text} build refuses it){alt}",
            facts.log("same_tag_other_build", runtime_build=f"<the {runtime_text} build>", plan_build=built)
            if plan.serialization_tag is not None and plan.serialization_tag == runtime_tag
            else NO_LOG,
        )
    prefix = f"built by {built}, {here}"
    if not vc_capable:
        return _make(
            "refused",
            f"{prefix}; a plan built before {_dotted(facts.vc_from)} loads only in the exact build that made it",
            log,
        )
    if runtime < tuple(build[: len(runtime)]):
        return _make("refused", f"{prefix}; no plan loads in an older runtime", log)
    if not runtime[:2] >= facts.vc_from:  # pragma: no cover - a runtime newer than an 8.6+ build is 8.6+
        return _make("refused", f"{prefix}; version compatibility needs an 8.6 or later runtime", log)
    vc_note = (
        "the header does not say whether it was"
        if plan.version_compatible == "unknown"
        else plan.version_compatible_reason
    )
    host_code = "with runtime.engine_host_code_allowed = True when it embeds the lean runtime"
    if runtime[0] == build[0]:
        return _make(
            "loads-if-version-compatible",
            f"{prefix}, a later runtime of the same major; it loads only if built with "
            f"BuilderFlag.VERSION_COMPATIBLE ({vc_note}), {host_code}; otherwise refused",
            log,
        )
    if (build[0], runtime[0]) in facts.cross_major:
        return _make(
            "loads-if-version-compatible",
            f"{prefix}; {build[0]}.x version-compatible plans load in {runtime[0]}.x ({vc_note}), "
            f"{host_code}; otherwise refused",
            log,
        )
    pairs = ", ".join(f"{a}.x-VC -> {b}.x" for a, b in sorted(facts.cross_major))
    return _make("refused", f"{prefix}; across majors only {pairs} are supported", log)


def not_a_plan(plan: planfile.PlanFile) -> str | None:
    """For a file that is no plan (a Git LFS pointer, anything else): what it is and what to do, one line;
    None for a plan, wrapped or not."""
    if plan.kind in (planfile.KIND_PLAN, planfile.KIND_WRAPPED):
        return None
    if plan.kind == planfile.KIND_LFS and plan.lfs is not None:
        size = f"{plan.lfs.size}-byte " if plan.lfs.size is not None else ""
        return f"a Git LFS pointer to a {size}file, not the plan: run `git lfs pull` and inspect again"
    return (
        f"not a TensorRT plan: {plan.looks_like}; give the file TensorRT serialized (the bytes of "
        "build_serialized_network, or trtexec --saveEngine)"
    )


def decide(plan: planfile.PlanFile, runtime: tuple[int, ...], runtime_text: str, facts: PlanFacts) -> Decision:
    """The decision for an inspected file and a runtime given as (major, minor[, patch[, build]])."""
    if plan.kind == planfile.KIND_PLAN:
        return _plan_decision(plan, runtime, runtime_text, facts)
    if plan.kind == planfile.KIND_WRAPPED:
        assert plan.wrapper is not None
        inner = _plan_decision(plan, runtime, runtime_text, facts)
        reason = (
            f"a {plan.wrapper.metadata_size}-byte JSON metadata block precedes the plan (an "
            f"Ultralytics-style export); TensorRT does not strip it. Without the first "
            f"{plan.wrapper.plan_offset} bytes: "
            f"{inner.status}: {inner.reason}"
        )
    else:
        reason = not_a_plan(plan) or ""
    first = int.from_bytes(plan.first_bytes[:4].ljust(4, b"\0"), "little")
    log = facts.log("not_a_plan_8") if runtime[0] <= 8 else facts.log("not_a_plan_later", first_u32=first)
    return _make("refused", reason, log)


@functools.lru_cache(maxsize=None)
def packaged_facts() -> PlanFacts:
    """The packaged facts, read once per process."""
    return load_facts()
