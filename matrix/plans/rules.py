"""Would a catalogue release's runtime load this plan? Decided from the header alone, without TensorRT.

Contract: `verdicts(plan, releases)` gives one frozen `Verdict` per release: `loads`, `refused`,
`loads-if-version-compatible` or `unknown`, each with a reason, and where the research quotes it the
log line TensorRT prints when it refuses. It never guesses: when the catalogue names a runtime only
by series (8.4.1) and the plan's exact build cannot be compared with certainty, the verdict is
`unknown` and says why. Facts (tags, messages, cross-major pairs) live in `plan_facts.toml`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from matrix.catalogue import Release
from matrix.errors import UserError
from matrix.suite import planfile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

FACTS_PATH = Path(__file__).with_name("plan_facts.toml")

LogLine = tuple[str, str]  # (text TensorRT logs, where that text was reported); ("", "") when none
NO_LOG: LogLine = ("", "")
Status = Literal["loads", "refused", "loads-if-version-compatible", "unknown"]
STATUSES: tuple[Status, ...] = ("loads", "refused", "loads-if-version-compatible", "unknown")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Verdict:
    """One release's answer for one file."""

    release: str
    runtime: str
    status: Status
    reason: str
    expected_log: str = ""
    expected_log_source: str = ""

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "status": self.status,
            "reason": self.reason,
            "expected_log": self.expected_log or None,
            "expected_log_source": self.expected_log_source or None,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlanFacts:
    """`plan_facts.toml`, validated."""

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


def load_facts(path: Path | None = None) -> PlanFacts:
    path = path or FACTS_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        tags = tuple((int(row["tag"]), tuple(str(s) for s in row["series"])) for row in data["tag"] if row["series"])
        compat = data["compatibility"]
        vc_from = tuple(int(p) for p in str(compat["version_compatible_from"]).split("."))
        cross = frozenset((int(a), int(b)) for a, b in compat["cross_major"])
        messages = tuple((str(k), str(v)) for k, v in data["messages"].items())
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: not a valid plan-facts file ({type(exc).__name__}: {exc})") from None
    return PlanFacts(tags=tags, vc_from=vc_from, cross_major=cross, messages=messages)


def _runtime_parts(release: Release) -> tuple[int, ...]:
    """'10.14.1.48.post1' -> (10, 14, 1, 48): a post release repackages the same build."""
    return tuple(int(p) for p in re.sub(r"\.post[0-9]+$", "", release.tensorrt).split("."))


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
    if (plan.magic == "ftrt") != ftrt_runtime:
        return NO_LOG  # a ptrt plan in an ftrt-era runtime (or the reverse): no message is on record
    if plan.plan is not None and plan.plan.layout == "legacy-24" and runtime[:2] >= (8, 2):
        return facts.log("legacy_plan_in_8", plan_tag=plan_tag)
    if build[0] != runtime[0]:
        return NO_LOG  # across majors no message is on record
    if runtime_tag is not None and runtime_tag != plan_tag:
        key = "tag_mismatch_8" if runtime[0] <= 8 else "tag_mismatch_later"
        return facts.log(key, runtime_tag=runtime_tag, plan_tag=plan_tag)
    if runtime_tag == plan_tag and len(runtime) == 4 and facts.tag_of(runtime_series) is not None:
        return facts.log("same_tag_other_build", runtime_build=_dotted(runtime), plan_build=_dotted(build))
    return NO_LOG


def _plan_verdict(plan: planfile.PlanFile, release: Release, facts: PlanFacts) -> Verdict:
    runtime = _runtime_parts(release)
    series = f"{runtime[0]}.{runtime[1]}"
    runtime_tag = facts.tag_of(series)
    build = plan.builder_version
    here = f"this runtime is {release.tensorrt}"

    def make(status: Status, reason: str, log: LogLine = NO_LOG) -> Verdict:
        return Verdict(
            release=release.id,
            runtime=release.tensorrt,
            status=status,
            reason=reason,
            expected_log=log[0],
            expected_log_source=log[1],
        )

    if build is None:
        tag = plan.serialization_tag
        if tag is not None and runtime_tag is not None and tag != runtime_tag:
            return make(
                "refused",
                f"serialization tag {tag}, {here} (tag {runtime_tag}); the builder version is not readable",
            )
        return make(
            "unknown",
            "the builder version is not readable from the header"
            + (f" and the tag {tag} does not settle it" if tag is not None else ""),
        )
    built = _dotted(build)
    log = _refusal_log(plan, runtime, facts, runtime_tag)
    vc_capable = build[:2] >= facts.vc_from
    if tuple(build[: len(runtime)]) == runtime:
        if len(runtime) >= 4:
            return make(
                "loads",
                f"built by {built}, the same build as this runtime (on the GPU architecture and OS it was "
                "built for, unless built hardware-compatible)",
            )
        alt = "; a version-compatible plan would also load in a later build" if vc_capable else ""
        return make(
            "unknown",
            f"built by {built}; the catalogue names this runtime only as {release.tensorrt}, so whether "
            f"the image carries exactly {built} is not known (another {release.tensorrt} build refuses "
            f"it){alt}",
            facts.log("same_tag_other_build", runtime_build="<the image's build>", plan_build=built)
            if plan.serialization_tag is not None and plan.serialization_tag == runtime_tag
            else NO_LOG,
        )
    prefix = f"built by {built}, {here}"
    if not vc_capable:
        return make(
            "refused",
            f"{prefix}; a plan built before {_dotted(facts.vc_from)} loads only in the exact build that made it",
            log,
        )
    if runtime < tuple(build[: len(runtime)]):
        return make("refused", f"{prefix}; no plan loads in an older runtime", log)
    if not runtime[:2] >= facts.vc_from:  # pragma: no cover - a runtime newer than an 8.6+ build is 8.6+
        return make("refused", f"{prefix}; version compatibility needs an 8.6 or later runtime", log)
    vc_note = (
        "the header does not say whether it was"
        if plan.version_compatible == "unknown"
        else plan.version_compatible_reason
    )
    host_code = "with runtime.engine_host_code_allowed = True when it embeds the lean runtime"
    if runtime[0] == build[0]:
        return make(
            "loads-if-version-compatible",
            f"{prefix}, a later runtime of the same major; it loads only if built with "
            f"BuilderFlag.VERSION_COMPATIBLE ({vc_note}), {host_code}; otherwise refused",
            log,
        )
    if (build[0], runtime[0]) in facts.cross_major:
        return make(
            "loads-if-version-compatible",
            f"{prefix}; {build[0]}.x version-compatible plans load in {runtime[0]}.x ({vc_note}), "
            f"{host_code}; otherwise refused",
            log,
        )
    pairs = ", ".join(f"{a}.x-VC -> {b}.x" for a, b in sorted(facts.cross_major))
    return make("refused", f"{prefix}; across majors only {pairs} are supported", log)


def verdict(plan: planfile.PlanFile, release: Release, facts: PlanFacts | None = None) -> Verdict:
    """One release's verdict for an inspected file."""
    facts = facts or load_facts()
    runtime = _runtime_parts(release)
    if plan.kind == planfile.KIND_PLAN:
        return _plan_verdict(plan, release, facts)
    if plan.kind == planfile.KIND_WRAPPED:
        assert plan.wrapper is not None
        inner = _plan_verdict(plan, release, facts)
        reason = (
            f"a {plan.wrapper.metadata_size}-byte JSON metadata block precedes the plan (an "
            f"Ultralytics-style export); TensorRT does not strip it. Without the first "
            f"{plan.wrapper.plan_offset} bytes: "
            f"{inner.status}: {inner.reason}"
        )
    elif plan.kind == planfile.KIND_LFS:
        assert plan.lfs is not None
        size = f"{plan.lfs.size}-byte " if plan.lfs.size is not None else ""
        reason = f"a Git LFS pointer to a {size}file, not the plan: run `git lfs pull` and inspect again"
    else:
        reason = f"not a TensorRT plan: {plan.looks_like}"
    first = int.from_bytes(plan.first_bytes[:4].ljust(4, b"\0"), "little")
    text, source = facts.log("not_a_plan_8") if runtime[0] <= 8 else facts.log("not_a_plan_later", first_u32=first)
    return Verdict(
        release=release.id,
        runtime=release.tensorrt,
        status="refused",
        reason=reason,
        expected_log=text,
        expected_log_source=source,
    )


def verdicts(
    plan: planfile.PlanFile, releases: Sequence[Release], facts: PlanFacts | None = None
) -> tuple[Verdict, ...]:
    facts = facts or load_facts()
    return tuple(verdict(plan, release, facts) for release in releases)
