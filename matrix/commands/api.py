"""`trt-matrix api`: the Python API of every release, read from its real compiled bindings.

Contract: prints, per release, how many names its bindings have and what changed from the release
before (added, removed, newly deprecated); `--names GLOB` prints a name x release grid; `--json` maps
each introspected release (`--ids`: catalogue id) to sorted `present` and `deprecated` names, the input
of `trt-matrix report --api-surface`; `--details` adds provenance and the releases not introspected;
`--write-snapshot` stores the whole table as matrix/offline/api_snapshot.json for `trt-matrix migrate`.
Progress goes to stderr. Exit 1 when a release's introspection failed, 2 on UserError.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from typing import Any

WIDTH = 110
# Cold runs are CPU-bound (one pip process per release): on 2 cores, 2 jobs took 24 s, 4 took 34 s.
DEFAULT_JOBS = max(1, min(8, os.cpu_count() or 2))


def register(sub: Any) -> None:
    p = sub.add_parser(
        "api",
        help="the Python API of each release, from its real bindings wheel (no GPU, no TensorRT)",
        description="Download each release's compiled Python bindings from the package index "
        "(tensorrt-bindings 8.6.1, tensorrt-cu12-bindings 10.x/11.x) for this Python, import them in a "
        "throwaway subprocess against a stand-in libnvinfer built here, and list classes, methods, "
        "properties, enum members and deprecations. Releases without wheels (8.4, 8.5) are listed as not "
        "introspected. Everything is cached in $TRT_MATRIX_CACHE (default ~/.cache/trt-matrix).",
    )
    p.add_argument(
        "--releases",
        action="append",
        default=[],
        metavar="LIST",
        help="catalogue ids (trt86), versions or prefixes (10.8, 11); comma-separated or repeated (default: all)",
    )
    p.add_argument(
        "--names",
        action="append",
        default=[],
        metavar="GLOB",
        help="show a name x release grid for names matching GLOB (e.g. 'IExecutionContext.execute*')",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print {release: {present: [...], deprecated: [...]}} (the input of report --api-surface)",
    )
    p.add_argument("--ids", action="store_true", help="with --json: key by catalogue id (trt86) instead")
    p.add_argument(
        "--details",
        action="store_true",
        help="with --json: add provenance, notes and releases not introspected",
    )
    p.add_argument("--refresh", action="store_true", help="re-list the index and re-introspect (wheels stay)")
    p.add_argument(
        "--write-snapshot",
        action="store_true",
        help="write every release's table to matrix/offline/api_snapshot.json (what `trt-matrix migrate` reads)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"releases prepared in parallel (default: the CPU count, at most 8; here {DEFAULT_JOBS})",
    )
    p.set_defaults(func=run)


def _progress(message: str) -> None:
    print(f"trt-matrix: api: {message}", file=sys.stderr, flush=True)


def _folded(names: tuple[str, ...], kinds: dict[str, str], inherited: dict[str, str]) -> list[str]:
    """Names with repeats folded: members of an added/removed class into 'IPluginV3 (class, 9 members)',
    and a member every subclass inherits into 'ILayer.set_output_type (+52 subclasses)'."""
    listed = set(names)
    containers = {n for n in names if kinds.get(n) in ("class", "enum", "module")}
    heirs: dict[str, int] = {}
    for name in names:
        base = inherited.get(name)
        if base and f"{base}.{name.rsplit('.', 1)[1]}" in listed:
            heirs[f"{base}.{name.rsplit('.', 1)[1]}"] = heirs.get(f"{base}.{name.rsplit('.', 1)[1]}", 0) + 1
    shown = []
    for name in names:
        if any(name.startswith(f"{c}.") for c in containers):
            continue
        base = inherited.get(name)
        if base and f"{base}.{name.rsplit('.', 1)[1]}" in listed:
            continue
        if name in containers:
            members = sum(1 for n in names if n.startswith(f"{name}."))
            shown.append(f"{name} ({kinds[name]}, {members} member{'' if members == 1 else 's'})")
        elif heirs.get(name):
            count = heirs[name]
            shown.append(f"{name} (+{count} subclass{'' if count == 1 else 'es'})")
        else:
            shown.append(name)
    return shown


def _wrapped(label: str, items: list[str]) -> list[str]:
    if not items:
        return []
    text = f"{label} {', '.join(items)}"
    return textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="      ", break_on_hyphens=False)


def _summary(table: Any) -> list[str]:
    changes = {c.release: c for c in table.changes()}
    lines = [
        "TensorRT Python API per release, read from each release's real bindings wheel "
        f"({table.interpreter}; "
        "imported against a stand-in libnvinfer: surface only, nothing executed)",
        "",
        f"{'release':<18}{'package':<24}{'names':>6}{'deprecated':>11}  vs the release before",
    ]
    for s in table.releases:
        if not s.introspected:
            lines.append(f"{s.release:<18}{s.package or '-':<24}  {s.reason}")
            continue
        change = changes.get(s.release)
        delta = (
            f"+{len(change.added)} -{len(change.removed)}, {len(change.newly_deprecated)} newly deprecated"
            if change
            else "(first introspected)"
        )
        lines.append(f"{s.release:<18}{s.package:<24}{len(s.present):>6}{len(s.deprecated):>11}  {delta}")
    for s in table.releases:
        if s.plugin_error:
            lines.append(
                f"note: {s.release}: tensorrt.plugin ships in the wheel but did not import here "
                f"({s.plugin_error}); its members are not listed"
            )
    lines += ["", "Changes (a class or enum added or removed is shown once, with its member count)"]
    for change in table.changes():
        new, old = table.get(change.release), table.get(change.previous)
        lines.append(f"{change.release} (after {change.previous})")
        block = _wrapped("+", _folded(change.added, dict(new.kinds), dict(new.inherited)))
        block += _wrapped("-", _folded(change.removed, dict(old.kinds), dict(old.inherited)))
        block += _wrapped("deprecated:", _folded(change.newly_deprecated, dict(new.kinds), dict(new.inherited)))
        block += _wrapped("no longer deprecated:", list(change.no_longer_deprecated))
        lines += block or ["  (no change)"]
    return lines


def _grid(table: Any, names: list[str]) -> list[str]:
    done = [s for s in table.releases if s.introspected]
    lines = ["releases: " + "  ".join(f"{i + 1}={s.release}" for i, s in enumerate(done))]
    skipped = [s.release for s in table.releases if not s.introspected]
    if skipped:
        lines.append(f"not introspected (no wheel): {', '.join(skipped)}")
    lines.append("Y present, D present and deprecated, - absent")
    width = max((len(n) for n in names), default=4)
    lines.append(f"{'name':<{width}}  " + " ".join(f"{i + 1:>2}" for i in range(len(done))))
    for name in names:
        cells = " ".join(f"{table.cell(s.release, name):>2}" for s in done)
        lines.append(f"{name:<{width}}  {cells}")
    return lines


def run(args: argparse.Namespace) -> int:
    from matrix.errors import UserError
    from matrix.offline import api_surface

    if args.jobs < 1:
        raise UserError("--jobs must be 1 or more")
    if (args.ids or args.details) and not args.json:
        raise UserError("--ids and --details go with --json")
    if args.ids and args.details:
        raise UserError("--ids and --details do not go together; pick one")
    if args.write_snapshot and (args.releases or args.names or args.json):
        raise UserError("--write-snapshot takes every release; leave out --releases, --names and --json")
    table = api_surface.surface_table(args.releases, refresh=args.refresh, jobs=args.jobs, progress=_progress)
    if args.write_snapshot:
        from matrix.offline import api_snapshot

        if any(s.failed for s in table.releases):
            raise UserError("an introspection failed, so the snapshot was not written; see above and retry")
        api_snapshot.write(api_snapshot.from_table(table))
        _progress(f"wrote {api_snapshot.SNAPSHOT_PATH} ({sum(s.introspected for s in table.releases)} releases)")
        return 0
    names = api_surface.matching_names(table, args.names) if args.names else None
    if args.names and not names:
        raise UserError(f"--names: no name in any release matches {', '.join(args.names)}")
    if args.json:
        from matrix import catalogue

        if args.details:
            data = table.details()
        else:
            data = table.to_json(catalogue.load().releases if args.ids else None)
            skipped = [s.release for s in table.releases if not s.introspected]
            if skipped:
                _progress(f"not introspected, so not in the JSON: {', '.join(skipped)} (--details says why)")
        if names is not None:
            for entry in data.values():
                for key in ("present", "deprecated"):
                    if entry.get(key) is not None:
                        entry[key] = [n for n in entry[key] if n in names]
        print(json.dumps(data, indent=1))
    elif names is not None:
        print("\n".join(_grid(table, names)))
    else:
        print("\n".join(_summary(table)))
    failed = [s.release for s in table.releases if s.failed]
    if failed:
        print(f"trt-matrix: api: introspection failed for {', '.join(failed)} (see above)", file=sys.stderr)
        return 1
    return 0
