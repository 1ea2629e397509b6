"""TensorRT's compiled Python bindings from the package index: listed, downloaded and unpacked, cached.

Contract: `index()` lists the bindings releases on the index (`pip index versions`, cached a day);
`unpacked(version)` downloads the wheel that matches the RUNNING interpreter (`pip download --no-deps
--only-binary=:all:`) once and unpacks it, returning its site directory with `tensorrt` importable.
Network trouble raises `UserError` naming the release and what to do; a release without a wheel for
this interpreter raises `NoWheel`. Cache: $TRT_MATRIX_CACHE, else ~/.cache/trt-matrix.
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
    """The index has the release, but no wheel for this interpreter and platform."""


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
        return tuple((str(p["name"]), tuple(int(m) for m in p["majors"])) for p in data["package"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: not a valid bindings file ({type(exc).__name__}: {exc})") from None


def _pip(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(
            f"{what}: pip did not finish in {PIP_TIMEOUT_S} s; check the network or proxy and try again"
        ) from None
    if "No module named pip" in result.stderr:
        raise UserError(f"{what}: {sys.executable} has no pip; install it (`{sys.executable} -m ensurepip`)")
    return result


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("WARNING")]
    return lines[-1] if lines else "(no output)"


def _list_versions(package: str, refresh: bool, progress: Progress | None) -> list[str]:
    cached = cache_dir() / "index" / f"{package}.json"
    data: dict[str, object] = {}
    if cached.is_file():
        try:
            data = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
    fetched = data.get("fetched")
    if not refresh and isinstance(fetched, float) and time.time() - fetched < INDEX_TTL_S:
        return [str(v) for v in data.get("versions", [])]  # type: ignore[attr-defined]
    if progress:
        progress(f"listing {package} versions on the package index (pip index versions)")
    result = _pip(["index", "versions", package], f"listing {package}")
    match = re.search(r"^Available versions: (.+)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        if data.get("versions"):
            if progress:
                progress(f"the index did not answer ({_last_line(result.stderr)}); using the cached list")
            return [str(v) for v in data["versions"]]  # type: ignore[attr-defined]
        raise UserError(
            f"cannot list {package} on the package index ({_last_line(result.stderr + result.stdout)}); "
            "check the network or pip's index/proxy settings and try again"
        )
    versions = [v.strip() for v in match.group(1).split(",") if v.strip()]
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"fetched": time.time(), "versions": versions}), encoding="utf-8")
    tmp.replace(cached)
    return versions


def index(refresh: bool = False, progress: Progress | None = None) -> tuple[Release, ...]:
    """Every bindings release on the index, oldest first; post releases fold into their base release."""
    groups: dict[tuple[str, Version], list[Version]] = {}
    for package, majors in packages():
        for text in _list_versions(package, refresh, progress):
            try:
                version = Version(text)
            except InvalidVersion:
                continue
            if version.major in majors and not version.is_prerelease:
                groups.setdefault((package, Version(version.base_version)), []).append(version)
    releases = []
    for (package, _base), versions in sorted(groups.items(), key=lambda item: item[0][1]):
        ordered = sorted(versions, key=lambda v: (v.post is not None, v))
        releases.append(
            Release(version=str(ordered[0]), package=package, candidates=tuple(map(str, ordered)))
        )
    return tuple(releases)


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
            if _NETWORK.search(output):
                raise UserError(
                    f"release {version}: cannot download {requirement} from the package index "
                    f"({_last_line(output)}); check the network or pip's proxy settings, or leave "
                    f"{version} out with --releases"
                )
            raise NoWheel(
                f"no {interpreter_tag()} wheel of {requirement} on the index ({_last_line(output)})"
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
        raise UserError(
            f"{site}: the wheel holds no compiled tensorrt module; delete {site.parent} and retry"
        )
    return modules[0].parent.name, modules[0]


def unpacked(release: Release, progress: Progress | None = None) -> Unpacked:
    """Download (once) and unpack (once) a release's wheel; tries post releases when the base has none."""
    last: NoWheel | None = None
    for version in release.candidates:
        try:
            wheel = download(release.package, version, progress)
        except NoWheel as exc:
            last = exc
            continue
        return _unpack(release.package, version, wheel)
    assert last is not None
    raise last


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
            raise UserError(
                f"{wheel.name}: cannot unpack ({exc}); it was deleted, run again to download it"
            ) from None
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
        known = ", ".join(r.version for r in releases)
        raise UserError(f"no TensorRT bindings release {version!r} on the package index; it has {known}")
    return matching[-1]
