"""`trt-matrix inspect FILE...`: what a plan file is, who built it, and which release would load it.

Contract: every file is reported, good or bad. A file that cannot be read as a plan (missing, a directory,
empty, truncated, corrupted) gives one line `trt-matrix: error: FILE: problem` on stderr; a file that reads
but is no plan (a Git LFS pointer, an ONNX model, anything else) is reported in full (what it is, what
each release's TensorRT would log given it) and also gets that line, saying what to do. The command exits
2 when any file was not a plan, after reporting all of them; 0 when every file is one. `--json` prints a
list with one object per file (`file`, `kind`, `magic`, `builder_version`, `serialization_tag`, `sections`,
`platform`, `verdicts`, ...; files that cannot be read carry `error`).
Reading and verdicts are `matrix.plans` (identify, will_load) against each catalogue release.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from matrix.commands import catalogue_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "inspect",
        help="read plan (engine) files without TensorRT: builder version, tag, and who can load them",
        description="Read each plan file's header without TensorRT or a GPU: the TensorRT build that "
        "made it, its serialization tag, the ftrt sections and platform id. Recognises Git LFS pointers "
        "and plans wrapped in tool metadata. Then says, for each release in the catalogue, whether its "
        "runtime would load the plan, and why. Exit status: 0 when every file is a plan, 2 when any "
        "is not (unreadable, corrupted, a Git LFS pointer, not a plan), after reporting all of them.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="plan files (.engine, .plan, .trt)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    catalogue_option(p, "a versions.toml to read releases from instead of the packaged one")
    p.set_defaults(func=run)


def _kind_line(found: Any) -> str:
    info = found.header
    if found.kind == "lfs-pointer":
        return f"Git LFS pointer ({info.file_size} bytes of text), not a plan"
    if found.kind == "not-a-plan":
        return f"not a TensorRT plan: {info.looks_like}"
    container = (
        "ftrt container (TensorRT 8.6 or later)" if info.magic == "ftrt" else "ptrt plan (TensorRT 8.5 or older)"
    )
    if found.kind == "wrapped-plan":
        return (
            f"wrapped plan: {info.wrapper.metadata_size} bytes of JSON metadata, then the {container} "
            f"at byte {info.wrapper.plan_offset}; {info.file_size} bytes"
        )
    return f"TensorRT plan, {container}, {info.file_size} bytes"


def _human(path: str, found: Any, verdicts: list[tuple[str, Any]]) -> list[str]:
    info = found.header
    lines = [path, f"  {'kind':<20}{_kind_line(found)}"]
    rows: list[tuple[str, str]] = []
    if info.is_plan:
        rows.append(("builder version", info.version_string or "not readable from the header"))
        if info.plan is not None:
            tag = f"{info.serialization_tag} ({info.plan.layout} header"
            tag += f", safety tag {info.safety_tag})" if info.safety_tag is not None else ")"
            rows.append(("serialization tag", tag))
        if info.sections:
            rows.append(("sections", "; ".join(f"{s.name} at 0x{s.offset:x}, {s.size} bytes" for s in info.sections)))
        rows.append(("platform", f"{info.platform or 'unknown'} ({info.platform_note})"))
        rows.append(("version-compatible", f"{info.version_compatible}: {info.version_compatible_reason}"))
    if info.wrapper is not None:
        keys = sorted(json.loads(info.wrapper.metadata_json))
        rows.append(("metadata keys", ", ".join(keys) or "(none)"))
    if info.lfs is not None:
        rows.append(("LFS object", f"{info.lfs.oid or '?'}, {info.lfs.size} bytes; run `git lfs pull`"))
    rows.extend(("note", note) for note in info.notes)
    lines.extend(f"  {name:<20}{value}" for name, value in rows)
    lines.append("  would it load? (releases in the catalogue)")
    width = max((len(v.runtime) for _, v in verdicts), default=0)
    for release, v in verdicts:
        lines.append(f"    {release:<7} {v.runtime:<{width}}  {v.status}: {v.reason}")
        if v.log_line:
            lines.append(f"    {'':<7} {'':<{width}}  if refused, TensorRT logs: {v.log_line}")
    return lines


def run(args: argparse.Namespace) -> int:
    from matrix import catalogue, plans
    from matrix.plans import rules

    releases = catalogue.load(args.catalogue).releases
    records: list[dict[str, Any]] = []
    bad = 0
    printed = False
    for path in args.files:
        try:
            info = plans.identify(path)
        except plans.PlanError as exc:
            bad += 1
            print(f"trt-matrix: error: {path}: {exc}", file=sys.stderr)
            records.append({"file": path, "kind": None, "error": str(exc)})
            continue
        problem = rules.not_a_plan(info.header)
        verdicts = [(r.id, plans.will_load(info, r.tensorrt)) for r in releases]
        if args.json:
            record: dict[str, Any] = {"file": path, **info.to_json()}
            record["verdicts"] = {rid: v.to_json() for rid, v in verdicts}
            records.append(record)
        else:
            if printed:
                print()
            print("\n".join(_human(path, info, verdicts)))
            printed = True
        if problem:
            bad += 1
            print(f"trt-matrix: error: {path}: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(records, indent=2))
    return 2 if bad else 0
