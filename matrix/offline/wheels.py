"""TensorRT's compiled Python bindings from the package index: listed, downloaded and unpacked, cached.

Contract: `index()` lists the bindings releases on the index (`pip index versions`, cached a day);
`unpacked(release)` downloads the wheel that matches the RUNNING interpreter (`pip download --no-deps
--only-binary=:all:`) once and unpacks it, returning its site directory with `tensorrt` importable.
Network trouble raises `UserError` naming the release and what to do; `find()` raises `NoWheel` for a
release with no wheel for this interpreter. Cache: $TRT_MATRIX_CACHE, else ~/.cache/trt-matrix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.tags import sys_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from matrix.errors import UserError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PACKAGES_PATH = Path(__file__).with_name("bindings.toml")
INDEX_TTL_S = 24 * 3600
PIP_TIMEOUT_S = 300
Progress = Callable[[str], None]

# What pip prints when the index cannot be reached (as opposed to "no wheel for this interpreter").
_NETWORK = re.compile(
    r"NewConnectionError|ConnectTimeout|ReadTimeout|ProxyError|SSLError|Max retries exceeded|"
    r"Temporary failure in name resolution|Network is unreachable|Connection refused|Could not fetch URL|"
    r"HTTP error [45]\d\d|403 Client Error|Connection reset"
)


class NoWheel(Exception):
    """The index has no wheel of the release's package for this interpreter (8.6.1 stops at cp311)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Release:
    """One bindings release on the index; `candidates` are the pip versions to try, base release first."""

    version: str
    package: str
    candidates: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Unpacked:
    """A wheel unpacked in the cache: `site` goes on PYTHONPATH; `module` is its compiled extension."""

    version: str
    package: str
    wheel: Path
    sha256: str
    site: Path
    import_name: str
    module: Path

    @property
    def ships_plugin(self) -> bool:
        return (self.site / self.import_name / "plugin" / "__init__.py").is_file()


def cache_dir() -> Path:
    root = os.environ.get("TRT_MATRIX_CACHE")
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "trt-matrix"
    path.mkdir(parents=True, exist_ok=True)
    return path


def interpreter_tag() -> str:
    """'cp311-x86_64': the wheels this process can import."""
    return f"cp{sys.version_info.major}{sys.version_info.minor}-{platform.machine()}"


def packages(path: Path | None = None) -> tuple[tuple[str, tuple[int, ...]], ...]:
    path = path or PACKAGES_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise UserError(f"{path}: not a valid bindings file ({type(exc).__name__}: {exc})") from None
    rows = data.get("package")
    if not isinstance(rows, list) or not rows:
        raise UserError(f"{path}: not a valid bindings file (expected [[package]] tables with name and majors)")
    out = []
    for number, row in enumerate(rows, start=1):
        name = row.get("name") if isinstance(row, dict) else None
        majors = row.get("majors") if isinstance(row, dict) else None
        if not isinstance(name, str) or not name.strip() or "\n" in name:
            raise UserError(
                f"{path}: not a valid bindings file (package {number}: name must be a package name, not {name!r:.60})"
            )
        if not isinstance(majors, list) or not majors or not all(type(m) is int and m > 0 for m in majors):
            raise UserError(
                f"{path}: not a valid bindings file "
                f"(package {number}, {name!r:.60}: majors must be a list of major versions)"
            )
        out.append((name, tuple(majors)))
    return tuple(out)


NETWORK_ATTEMPTS = 3  # pip retries a request itself; a name-resolution outage can outlast those retries
NETWORK_PAUSE_S = 10.0


def _pip(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """pip, run again (after a pause) while it fails for the network; then its last result."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    for attempt in range(1, NETWORK_ATTEMPTS + 1):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise UserError(
                f"{what}: pip did not finish in {PIP_TIMEOUT_S} s; check the network or proxy and try again"
            ) from None
        if "No module named pip" in result.stderr:
            raise UserError(f"{what}: {sys.executable} has no pip; install it (`{sys.executable} -m ensurepip`)")
        if result.returncode == 0 or not _NETWORK.search(result.stdout + result.stderr):
            return result
        if attempt < NETWORK_ATTEMPTS:
            time.sleep(NETWORK_PAUSE_S * attempt)
    return result


def _reason(text: str) -> str:
    """The line of pip's output that says what went wrong: a network error if any, else its last error."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    network = [line for line in lines if _NETWORK.search(line)]
    errors = [line for line in lines if not line.startswith("WARNING")]
    chosen = network[-1] if network else errors[-1] if errors else "(no output)"
    return chosen[:300]


def _list_versions(package: str, refresh: bool, progress: Progress | None) -> list[str] | None:
    """The versions `pip index versions` lists for this interpreter (it lists only installable ones):
    a list (cached a day), or None when pip found nothing for this interpreter."""
    cached = cache_dir() / "index" / f"{package}-{interpreter_tag()}.json"
    data: dict[str, Any] = {}
    if cached.is_file():
        try:
            data = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
    fetched = data.get("fetched")
    if not refresh and isinstance(fetched, float) and time.time() - fetched < INDEX_TTL_S:
        return None if data.get("versions") is None else [str(v) for v in data["versions"]]
    if progress:
        progress(f"listing {package} versions on the package index (pip index versions)")
    result = _pip(["index", "versions", "--only-binary=:all:", package], f"listing {package}")
    output = result.stdout + result.stderr
    match = re.search(r"^Available versions: (.+)$", result.stdout, re.MULTILINE)
    versions: list[str] | None
    if match is not None and result.returncode == 0:
        versions = [v.strip() for v in match.group(1).split(",") if v.strip()]
    elif "No matching distribution found" in output and not _NETWORK.search(output):
        versions = None  # nothing for this interpreter (or an index that answers nothing: see index())
    elif "versions" in data:
        if progress:
            progress(f"the index did not answer ({_reason(output)}); using the cached list")
        return None if data["versions"] is None else [str(v) for v in data["versions"]]
    else:
        raise UserError(
            f"cannot list {package} on the package index ({_reason(output)}); "
            "check the network or pip's index/proxy settings and try again"
        )
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"fetched": time.time(), "versions": versions}), encoding="utf-8")
    tmp.replace(cached)
    return versions


def listing(refresh: bool = False, progress: Progress | None = None) -> dict[str, list[str] | None]:
    """package -> versions on the index for this interpreter (None: no wheel for it)."""
    found = {package: _list_versions(package, refresh, progress) for package, _ in packages()}
    if all(versions is None for versions in found.values()):
        raise UserError(
            f"the package index lists none of {', '.join(found)} for this Python ({interpreter_tag()}); "
            "either it has no wheels for it or the index is unreachable: check the network or pip's "
            "index/proxy settings, or use another Python"
        )
    return found


def index(refresh: bool = False, progress: Progress | None = None) -> tuple[Release, ...]:
    """Every bindings release on the index, oldest first; post releases fold into their base release."""
    groups: dict[tuple[str, Version], list[Version]] = {}
    majors_of = dict(packages())
    for package, texts in listing(refresh, progress).items():
        for text in texts or []:
            try:
                version = Version(text)
            except InvalidVersion:
                continue
            if version.major in majors_of[package] and not version.is_prerelease:
                groups.setdefault((package, Version(version.base_version)), []).append(version)
    releases = []
    for (package, _base), versions in sorted(groups.items(), key=lambda item: item[0][1]):
        ordered = sorted(versions, key=lambda v: (v.post is not None, v))
        releases.append(Release(version=str(ordered[0]), package=package, candidates=tuple(map(str, ordered))))
    return tuple(releases)


def no_wheel_reason(version: str) -> str | None:
    """Why `version` has no bindings here when its package lists nothing for this interpreter, else None."""
    head = version.split(".", maxsplit=1)[0]
    major = int(head) if head.isdigit() else -1
    for package, majors in packages():
        if major in majors and _list_versions(package, False, None) is None:
            return f"the index has no {package} wheel for this Python ({interpreter_tag()})"
    return None


def _compatible(wheel: Path) -> bool:
    try:
        _, _, _, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename:
        return False
    return not tags.isdisjoint(set(sys_tags()))


def cached_wheel(package: str, version: str) -> Path | None:
    prefix = f"{canonicalize_name(package).replace('-', '_')}-{version}-"
    for wheel in sorted((cache_dir() / "wheels").glob(f"{prefix}*.whl")):
        if _compatible(wheel):
            return wheel
    return None


def download(package: str, version: str, progress: Progress | None = None) -> Path:
    """The wheel of `package==version` for this interpreter, from the cache or the index."""
    cached = cached_wheel(package, version)
    if cached is not None:
        return cached
    wheels = cache_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(f"{version}: downloading {package}=={version} (pip download, {interpreter_tag()})")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=wheels, prefix=".download-") as tmp:
        requirement = f"{package}=={version}"
        result = _pip(
            ["download", "--no-deps", "--only-binary=:all:", "--dest", tmp, requirement],
            f"release {version}",
        )
        found = [p for p in Path(tmp).glob("*.whl") if _compatible(p)]
        if result.returncode != 0 or not found:
            output = result.stdout + result.stderr
            # The version came from `pip index versions`, which lists only what this interpreter can
            # install, so a failure here is the index or the network, not a missing wheel.
            raise UserError(
                f"release {version}: cannot download {requirement} from the package index "
                f"({_reason(output)}); check the network or pip's proxy settings, or leave "
                f"{version} out with --releases"
            )
        target = wheels / found[0].name
        found[0].replace(target)
    if progress:
        progress(
            f"{version}: downloaded {target.name} ({target.stat().st_size / 1e6:.1f} MB) in "
            f"{time.monotonic() - started:.1f} s"
        )
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _import_name(site: Path) -> tuple[str, Path]:
    """The package holding the compiled `tensorrt*.so` module, and that module."""
    modules = sorted(site.glob("*/tensorrt*.so"))
    if not modules:
        raise UserError(f"{site}: the wheel holds no compiled tensorrt module; delete {site.parent} and retry")
    return modules[0].parent.name, modules[0]


def unpacked(release: Release, progress: Progress | None = None) -> Unpacked:
    """Download (once) and unpack (once) a release's wheel (its base release; a post release if only)."""
    wheel = download(release.package, release.version, progress)
    return _unpack(release.package, release.version, wheel)


def _unpack(package: str, version: str, wheel: Path) -> Unpacked:
    home = cache_dir() / "bindings" / f"{version}-{interpreter_tag()}"
    site = home / "site"
    if not site.is_dir():
        home.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=home, prefix=".site-"))
        try:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(tmp)
            name, _ = _import_name(tmp)
            if name != "tensorrt":  # 8.6.1 and later wheels: `tensorrt_bindings`, imported as `tensorrt`
                (tmp / "tensorrt").symlink_to(name, target_is_directory=True)
            try:
                tmp.rename(site)
            except OSError:  # another process unpacked it first
                shutil.rmtree(tmp, ignore_errors=True)
        except (zipfile.BadZipFile, OSError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            wheel.unlink(missing_ok=True)
            raise UserError(f"{wheel.name}: cannot unpack ({exc}); it was deleted, run again to download it") from None
    name, module = _import_name(site)
    return Unpacked(
        version=version,
        package=package,
        wheel=wheel,
        sha256=_sha256(wheel),
        site=site,
        import_name=name,
        module=module,
    )


def find(version: str, refresh: bool = False, progress: Progress | None = None) -> Release:
    """The newest release whose version is `version` or starts with it ('10.8' -> 10.8.0.43)."""
    releases = index(refresh, progress)
    matching = [r for r in releases if version in r.candidates or f"{r.version}.".startswith(f"{version}.")]
    if not matching:
        reason = no_wheel_reason(version)
        if reason is not None:
            raise NoWheel(f"{version}: {reason}")
        known = ", ".join(r.version for r in releases)
        raise UserError(f"no TensorRT bindings release {version!r} on the package index; it has {known}")
    return matching[-1]
