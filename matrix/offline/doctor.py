"""Every TensorRT on this machine, which libnvinfer each tool really loads, and why a plan will not load.

Contract: `examine(plan_paths, scope)` returns a frozen `Report`: `installations` (the `tensorrt` module
of each probed interpreter, every libnvinfer.so* found, every trtexec), each with its version and the
library it resolves to; per plan its builder version and a verdict per installation (matrix.plans);
`problems` and `fixes` (lists of one-line strings); `machine` (GPU, driver, CUDA runtime where present).
Nothing is imported into this process: interpreters, trtexec and library loads (getInferLibVersion) run
in subprocesses with timeouts; ELF files are read with pyelftools (matrix.offline.elf). Unreadable files,
broken links and crashing probes become notes or problems, never exceptions. No Docker, no GPU needed.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from matrix import plans
from matrix.offline import elf
from matrix.plans import rules
from matrix.suite import bom
from matrix.suite.standin_probe import MARKER_SYMBOL

Kind = Literal["python", "library", "trtexec"]
PROBE_TIMEOUT_S = 60.0
LIB_NAME = re.compile(r"^libnvinfer\.so(\.[0-9]+)*$")
SYSTEM_LIB_DIRS = (*elf.DEFAULT_DIRS, "/usr/local/lib", "/usr/local/tensorrt/lib", "/opt/tensorrt/lib")
SYSTEM_LIB_GLOBS = ("/opt/TensorRT-*/lib", "/usr/local/TensorRT-*/lib", "/usr/local/cuda*/lib64")
SYSTEM_BIN_DIRS = (*{os.path.dirname(p) for p in bom.TRTEXEC_CANDIDATES}, "/usr/local/tensorrt/bin")

_PY_FIND = r"""
import json, os, sys, importlib.util
try:
    import importlib.metadata as md
    dists = [(d.metadata["Name"] or "", d.version) for d in md.distributions()]
except Exception as exc:
    dists = [("?", "cannot list distributions: %s" % exc)]
dists = sorted({(n, v) for n, v in dists if n.lower().replace("_", "-").startswith("tensorrt")})
def where(name):
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        return None
    if spec is None:
        return None
    return spec.origin if spec.origin not in (None, "namespace") else list(spec.submodule_search_locations or [None])[0]
mods = {n: where(n) for n in ("tensorrt", "tensorrt_bindings", "tensorrt_libs", "tensorrt_cu12_libs",
                              "tensorrt_cu13_libs", "tensorrt_lean", "tensorrt_dispatch")}
print(json.dumps({"python": sys.executable, "dists": dists, "modules": mods}))
"""
_PY_IMPORT = r"""
import json, tensorrt
maps = set()
with open("/proc/self/maps") as f:
    for line in f:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if "libnvinfer.so" in os.path.basename(path):
            maps.add(path)
print(json.dumps({"version": getattr(tensorrt, "__version__", None), "file": tensorrt.__file__,
                  "mapped": sorted(maps)}))
""".replace("import json, tensorrt", "import json, os, tensorrt")
_LIB_VERSION = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
fn = lib.getInferLibVersion
fn.restype = ctypes.c_int32
print(fn())
"""


@dataclasses.dataclass(frozen=True)
class Scope:
    """Where to look: `env` (PATH, LD_LIBRARY_PATH, and the environment probes run in), the interpreters
    to probe, extra folders, and whether to add the system's usual places and the ldconfig cache."""

    env: Mapping[str, str]
    pythons: tuple[str, ...]
    search: tuple[str, ...] = ()
    system: bool = True


@dataclasses.dataclass(frozen=True)
class Installation:
    kind: Kind
    path: str
    version: str | None
    source: str  # where the version was read
    loads: str | None = None  # the libnvinfer it resolves to (python, trtexec)
    notes: tuple[str, ...] = ()

    def label(self) -> str:
        return f"{self.kind} {self.version or '(version unknown)'} ({self.path})"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"notes": list(self.notes)}


@dataclasses.dataclass(frozen=True)
class PlanCheck:
    file: str
    builder_version: str | None
    kind: str | None
    error: str | None
    verdicts: tuple[tuple[str, plans.Verdict], ...]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "builder_version": self.builder_version, "kind": self.kind}
        if self.error is not None:
            out["error"] = self.error
        out["verdicts"] = {
            path: {"loads": v.loads, "why": v.reason, "status": v.status, "log_line": v.log_line or None}
            for path, v in self.verdicts
        }
        return out


@dataclasses.dataclass(frozen=True)
class Report:
    installations: tuple[Installation, ...]
    plans: tuple[PlanCheck, ...]
    problems: tuple[str, ...]
    fixes: tuple[str, ...]
    machine: Mapping[str, Any]

    @property
    def consistent(self) -> bool:
        return not self.problems

    @property
    def bad_input(self) -> bool:
        return any(p.error is not None for p in self.plans)

    def to_json(self) -> dict[str, Any]:
        return {
            "installations": [i.to_json() for i in self.installations],
            "plans": [p.to_json() for p in self.plans],
            "problems": list(self.problems),
            "fixes": list(self.fixes),
            "consistent": self.consistent,
            "machine": dict(self.machine),
        }


def _run(argv: Sequence[str], env: Mapping[str, str], timeout: float = PROBE_TIMEOUT_S) -> tuple[int, str, str]:
    """(exit status, stdout, stderr); a probe that cannot start or hangs gives status -1 and says why."""
    try:
        proc = subprocess.run(list(argv), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return -1, "", f"{type(exc).__name__}: {exc}"
    return proc.returncode, proc.stdout, proc.stderr


def _last(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _json_line(text: str) -> dict[str, Any] | None:
    """The JSON object a probe prints last, or None when it printed none."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    try:
        found = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _release(version: str | None) -> tuple[int, ...] | None:
    """(8, 6, 1) from '8.6.1.6' or '8.6.1'; None for a bare major ('8', from a soname) or nothing."""
    if not version:
        return None
    parts = re.findall(r"[0-9]+", version.split("+")[0])[:3]
    return tuple(int(p) for p in parts) if len(parts) == 3 else None


def _ldconfig_cache(env: Mapping[str, str]) -> dict[str, str]:
    """soname -> path from `ldconfig -p` (empty when ldconfig is absent)."""
    for tool in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        if os.access(tool, os.X_OK):
            status, out, _ = _run([tool, "-p"], env, timeout=20)
            found: dict[str, str] = {}
            for line in out.splitlines() if status == 0 else []:
                if "=>" in line:
                    name = line.strip().split(" ", 1)[0]
                    found.setdefault(name, line.rsplit("=>", 1)[1].strip())
            return found
    return {}


def _lib_dirs(scope: Scope, cache: Mapping[str, str], extra: Sequence[str]) -> list[str]:
    dirs = [d for d in scope.env.get("LD_LIBRARY_PATH", "").split(":") if d]
    dirs += [*scope.search, *(os.path.join(d, "lib") for d in scope.search), *extra]
    if scope.system:
        dirs += [os.path.dirname(p) for n, p in cache.items() if LIB_NAME.match(n)]
        dirs += list(SYSTEM_LIB_DIRS)
        for pattern in SYSTEM_LIB_GLOBS:
            dirs += sorted(glob.glob(pattern))
    seen: dict[str, None] = {}
    for d in dirs:
        seen.setdefault(os.path.normpath(d), None)
    return list(seen)


def _library(real: str, aliases: Sequence[str], env: Mapping[str, str]) -> Installation:
    notes = [f"also reached as {a}" for a in aliases if a != real]
    match = re.search(r"\.so\.([0-9]+(?:\.[0-9]+)*)$", os.path.basename(real))
    version = match.group(1) if match else None
    source = "file name" if version else "none"
    try:
        info = elf.dynamic(real, ["getInferLibVersion", MARKER_SYMBOL])
    except elf.NotElf as exc:
        return Installation("library", real, version, source, notes=(*notes, f"{exc}: not loadable"))
    if MARKER_SYMBOL in info.defines:
        notes.append("trt-matrix's stand-in library (API introspection only), not TensorRT")
    if info.soname and not version:
        found = re.search(r"\.so\.([0-9]+)$", info.soname)
        version, source = (found.group(1), f"soname {info.soname}") if found else (None, "none")
    if "getInferLibVersion" in info.defines:
        status, out, err = _run([sys.executable, "-c", _LIB_VERSION, real], env, 20)
        if status == 0 and _last(out).lstrip("-").isdigit():
            number = int(_last(out))
            loaded = bom.decode_tensorrt_number(number)
            if version and _release(version) and _release(version) != _release(loaded):
                notes.append(f"its file name says {version}, getInferLibVersion() says {loaded}")
            version, source = loaded, f"getInferLibVersion() = {number}"
        else:
            why = _last(err) or f"exit status {status}"
            notes.append(f"does not load here ({why}); version from its {source}")
    return Installation("library", real, version, source, notes=tuple(notes))


def _libraries(dirs: Sequence[str], env: Mapping[str, str]) -> tuple[list[Installation], list[str]]:
    """One installation per real file; broken links returned as problems."""
    by_real: dict[str, list[str]] = {}
    broken: list[str] = []
    for folder in dirs:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if not LIB_NAME.match(name):
                continue
            path = os.path.join(folder, name)
            real = os.path.realpath(path)
            if not os.path.exists(real):
                broken.append(f"broken link: {path} -> {os.readlink(path) if os.path.islink(path) else real}")
                continue
            by_real.setdefault(real, []).append(path)
    return [_library(real, paths, env) for real, paths in by_real.items()], broken


def _python(exe: str, scope: Scope, cache: Mapping[str, str]) -> tuple[list[Installation], list[str]]:
    env = dict(scope.env)
    status, out, err = _run([exe, "-c", _PY_FIND], env)
    found = _json_line(out) if status == 0 else None
    if found is None:
        return [], [f"{exe}: could not be probed ({_last(err) or f'exit status {status}'})"]
    dists = [f"{n} {v}" for n, v in found["dists"]]
    modules: dict[str, str | None] = found["modules"]
    problems: list[str] = []
    if not modules.get("tensorrt"):
        if dists:
            problems.append(
                f"{exe}: distributions {', '.join(dists)} are installed but `import tensorrt` finds no module"
            )
        return [], problems
    notes = [f"distributions: {', '.join(dists) or 'none (a module on PYTHONPATH or copied in)'}"]
    status, out, err = _run([exe, "-c", _PY_IMPORT], env)
    imported = (_json_line(out) if status == 0 else None) or {}
    if not imported:
        why = _last(err) or (f"killed by signal {-status}" if status < 0 else f"exit status {status}")
        problems.append(f"{exe}: `import tensorrt` fails: {why}")
    version = imported.get("version")
    module_file = str(imported.get("file") or modules["tensorrt"])
    # The compiled module, and the libnvinfer the loader gives it.
    folders = [os.path.dirname(str(p)) for k, p in modules.items() if p and k in ("tensorrt", "tensorrt_bindings")]
    wheel_libs = [os.path.dirname(str(p)) for k, p in modules.items() if p and k.endswith("_libs")]
    resolved: tuple[str, str] | None = None
    needed_name: str | None = None
    for folder in folders:
        for candidate in sorted(glob.glob(os.path.join(folder, "tensorrt*.so"))):
            try:
                dyn = elf.dynamic(candidate)
            except elf.NotElf:
                continue
            names = [n for n in dyn.needed if n.startswith("libnvinfer.so")]
            if names:
                needed_name = names[0]
                resolved = elf.resolve(needed_name, dyn, env, cache, elf.DEFAULT_DIRS, wheel_libs)
                break
        if needed_name:
            break
    loads: str | None = None
    if resolved:
        loads = os.path.realpath(resolved[0])
        notes.append(f"{needed_name} resolves to {resolved[0]} (via {resolved[1]})")
    elif needed_name:
        problems.append(f"{exe}: its tensorrt module needs {needed_name}, which the loader cannot find")
    mapped = [os.path.realpath(p) for p in imported.get("mapped", [])]
    if mapped:
        if loads and loads not in mapped:
            notes.append(f"but the import actually mapped {', '.join(mapped)}")
        loads = mapped[0]
    source = "tensorrt.__version__" if version else "none (the import failed)"
    if not version:
        for name, dist_version in found["dists"]:
            if name.lower() in ("tensorrt", "tensorrt-cu12", "tensorrt-cu13", "tensorrt-bindings"):
                version, source = dist_version, f"distribution {name}"
                break
    for name, dist_version in found["dists"]:
        if version and name.lower().startswith("tensorrt") and _release(dist_version) != _release(version):
            problems.append(f"{exe}: distribution {name} {dist_version} but the module says {version}")
    inst = Installation("python", module_file, version, source, loads, tuple(notes))
    return [inst], problems


def _trtexecs(scope: Scope, cache: Mapping[str, str]) -> list[Installation]:
    dirs = [d for d in scope.env.get("PATH", "").split(":") if d]
    dirs += [*scope.search, *(os.path.join(d, "bin") for d in scope.search)]
    if scope.system:
        dirs += list(SYSTEM_BIN_DIRS)
    seen: set[str] = set()
    out = []
    for folder in dirs:
        path = os.path.join(folder, "trtexec")
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(real) or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        notes: list[str] = []
        status, text, err = _run([path, "--help"], scope.env, 20)
        parsed = bom.parse_trtexec_banner(text + "\n" + err)
        version, source = (parsed[0], f"banner {parsed[1]}") if parsed else (None, "none")
        if parsed is None:
            notes.append(f"--help printed no [TensorRT vNNNN] banner ({_last(err) or f'exit status {status}'})")
        loads = None
        try:
            dyn = elf.dynamic(real)
            names = [n for n in dyn.needed if n.startswith("libnvinfer.so")]
            if names:
                hit = elf.resolve(names[0], dyn, scope.env, cache)
                loads = os.path.realpath(hit[0]) if hit else None
                notes.append(f"{names[0]} resolves to {hit[0]} (via {hit[1]})" if hit else f"{names[0]} not found")
        except elf.NotElf as exc:
            notes.append(f"{exc}: a wrapper script? the library it loads is not known")
        out.append(Installation("trtexec", path, version, source, loads, tuple(notes)))
    return out


def _machine(scope: Scope) -> dict[str, Any]:
    if not scope.system:
        return {"note": "not probed (--no-system)"}
    found: dict[str, Any] = {}
    for name, probe in (("gpu", bom.probe_gpu), ("cuda_runtime", bom.probe_cuda_runtime)):
        try:
            found[name] = probe()["value"]
        except bom.Absent as exc:
            found[name] = None
            found[f"{name}_note"] = str(exc)[:300]
        except Exception as exc:  # a probe's bug must not stop the doctor
            found[name] = None
            found[f"{name}_note"] = f"probe error: {type(exc).__name__}: {exc}"[:300]
    return found


def _fixes_for(plan: PlanCheck, inst: Installation, trtexecs: Sequence[Installation]) -> list[str]:
    built = plan.builder_version or "?"
    name = os.path.basename(plan.file)
    fixes = []
    same = [t for t in trtexecs if _release(t.version) == _release(inst.version) and t is not inst]
    if inst.kind == "python":
        fixes.append(f"rebuild {name} with the Python API of {inst.version} (the one that loads it)")
    elif same:
        fixes.append(
            f"rebuild {name} with {same[0].path} ({same[0].version}), the trtexec of the library that loads it"
        )
    else:
        fixes.append(f"rebuild {name} with TensorRT {inst.version} (its trtexec or Python API)")
    if inst.kind == "python":
        fixes.append(f"or install tensorrt=={built} (the build that made it) to load it as is")
    else:
        fixes.append(f"or put TensorRT {built} (the build that made it) on the loader path to load it as is")
    build = _release(built)
    runtime = _release(inst.version)
    if build and runtime and build >= (8, 6, 0) and runtime > build:
        fixes.append(f"or build {name} version-compatible (BuilderFlag.VERSION_COMPATIBLE) so later runtimes load it")
    return fixes


def examine(plan_paths: Sequence[str], scope: Scope) -> Report:
    cache = _ldconfig_cache(scope.env) if scope.system else {}
    problems: list[str] = []
    pythons: list[Installation] = []
    for exe in scope.pythons:
        found, said = _python(exe, scope, cache)
        pythons += found
        problems += said
    wheel_dirs = [os.path.dirname(p.loads) for p in pythons if p.loads]
    libraries, broken = _libraries(_lib_dirs(scope, cache, wheel_dirs), scope.env)
    problems += broken
    trtexecs = _trtexecs(scope, cache)
    installations = (*pythons, *libraries, *trtexecs)
    by_path = {i.path: i for i in libraries}
    for inst in (*pythons, *trtexecs):
        lib = by_path.get(inst.loads or "")
        if lib and _release(lib.version) and _release(inst.version) and _release(lib.version) != _release(inst.version):
            problems.append(f"{inst.label()} loads libnvinfer {lib.version} ({lib.path}): they disagree")
    releases: dict[tuple[int, ...], list[Installation]] = {}
    for inst in installations:
        key = _release(inst.version)
        if key and not any("stand-in" in n for n in inst.notes):
            releases.setdefault(key, []).append(inst)
    fixes: list[str] = []
    if len(releases) > 1:
        listed = "; ".join(", ".join(i.label() for i in group) for group in releases.values())
        problems.append(
            f"{len(releases)} TensorRT releases on this machine disagree: {listed}. A plan built with one "
            "is refused by the others"
        )
        fixes.append(
            "build plans with the same TensorRT that loads them (its trtexec or Python API), or take the other "
            "releases off PATH / LD_LIBRARY_PATH"
        )
    checks = []
    for path in plan_paths:
        try:
            info = plans.identify(path)
        except plans.PlanError as exc:
            checks.append(PlanCheck(path, None, None, str(exc), ()))
            continue
        verdicts = tuple(
            (i.path, plans.will_load(info, i.version)) for i in installations if i.version and _release(i.version)
        )
        not_a_plan = rules.not_a_plan(info.header)  # bad input, reported as such (exit 2), not a problem found
        check = PlanCheck(path, info.builder_version, info.kind, not_a_plan, verdicts)
        checks.append(check)
        if not_a_plan is not None:
            continue
        if not verdicts:
            problems.append(f"{path}: no TensorRT installation with a known version here to load it")
        for inst_path, verdict in verdicts:
            if verdict.loads is False:
                inst = next(i for i in installations if i.path == inst_path)
                log = f"; TensorRT logs: {verdict.log_line}" if verdict.log_line else ""
                problems.append(f"{path} will not load with {inst.label()}: {verdict.reason}{log}")
                fixes += [f for f in _fixes_for(check, inst, trtexecs) if f not in fixes]
    return Report(tuple(installations), tuple(checks), tuple(problems), tuple(fixes), _machine(scope))


def render(report: Report) -> list[str]:
    """The terminal summary: one table of installations, one line per plan and runtime, problems, fixes."""
    lines = ["TensorRT on this machine"]
    if not report.installations:
        lines.append("  no TensorRT on this machine (no tensorrt module, no libnvinfer.so*, no trtexec found)")
    width = max((len(i.path) for i in report.installations), default=0)
    for inst in report.installations:
        loads = f"  -> {inst.loads}" if inst.loads else ""
        lines.append(f"  {inst.kind:<8} {inst.version or '?':<12} {inst.path:<{width}}{loads}")
        lines += [f"  {'':<8} {'':<12} {note}" for note in (f"version from {inst.source}", *inst.notes)]
    machine = report.machine
    if "gpu" in machine or "cuda_runtime" in machine:
        gpu = machine.get("gpu") or machine.get("gpu_note", "none")
        lines.append(f"GPU: {gpu}; CUDA runtime: {machine.get('cuda_runtime') or 'none found'}")
    for check in report.plans:
        if check.error is not None:
            lines.append(f"{check.file}: {'cannot read: ' if check.kind is None else ''}{check.error}")
            continue
        lines.append(f"{check.file}: {check.kind}, built by {check.builder_version or 'an unreadable version'}")
        for path, v in check.verdicts:
            word = {True: "loads", False: "refused", None: "cannot tell"}[v.loads]
            lines.append(f"  {word:<12} {v.runtime:<12} {path}: {v.reason}")
            if v.loads is False and v.log_line:
                lines.append(f"  {'':<12} {'':<12} TensorRT logs: {v.log_line}")
    unchecked = sum(1 for p in report.plans if p.error is not None)
    if report.problems:
        lines.append("Problems:")
    elif unchecked:
        lines.append(f"Verdict: no problem found, but {unchecked} PLAN file(s) could not be checked (above)")
    else:
        lines.append("Verdict: consistent")
    lines += [f"  - {p}" for p in report.problems]
    if report.fixes:
        lines.append("Fixes:")
        lines += [f"  - {f}" for f in report.fixes]
    if report.problems:
        lines.append(f"Verdict: {len(report.problems)} problem(s)")
    return lines
