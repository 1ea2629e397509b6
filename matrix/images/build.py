"""Building the per-release images through the Docker SDK (classic builder, layer cache).

Contract: `plan(release, catalogue, options)` gives the exact inputs of one build (Dockerfile, a
byte-stable tar context, build args, tags); the same inputs give the same bytes, so an unchanged
image rebuilds from cache in seconds. `build(client, plan, display)` streams the build, tags the image
`trt-matrix/<id>:latest` and `trt-matrix/<id>:<content>` and returns a `BuildResult` (every step,
cached or not), or raises `BuildFailure` after showing the failing step's output tail.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import io
import json
import re
import tarfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matrix.catalogue import Catalogue, Release
from matrix.errors import UserError
from matrix.images import dockerfile
from matrix.images.display import Display, short

if TYPE_CHECKING:
    import docker

REPOSITORY = "trt-matrix"
TAIL_LINES = 40
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$", re.DOTALL)
_RESULT = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def repository(release_id: str) -> str:
    return f"{REPOSITORY}/{release_id}"


def latest_tag(release_id: str) -> str:
    return f"{repository(release_id)}:latest"


@dataclasses.dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """What `trt-matrix images build` was asked for, beyond the catalogue."""

    base_image: str | None = None
    ca_bundle: Path | None = None
    index_url: str | None = None
    extra_index_url: str | None = None
    skip_tensorrt: bool = False
    no_cache: bool = False
    # the self-test's packages (tests/double/selftest.toml [image]): never for real runs
    extra_pip: tuple[str, ...] = ()
    extra_apt: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class BuildPlan:
    release: Release
    dockerfile: str
    context: bytes
    buildargs: tuple[tuple[str, str], ...]
    base_image: str
    base_overridden: bool
    skip_tensorrt: bool
    content_tag: str
    ca_bundle_sha256: str | None
    no_cache: bool

    @property
    def tags(self) -> tuple[str, str]:
        return latest_tag(self.release.id), f"{repository(self.release.id)}:{self.content_tag}"

    def record(self, options: BuildOptions) -> dict[str, Any]:
        """How the image was built, for its stored BOM (URLs without credentials)."""
        return {
            "base_image": self.base_image,
            "base_overridden": self.base_overridden,
            "catalogue_base": self.release.base_ref,
            "skip_tensorrt": self.skip_tensorrt,
            "ca_bundle": str(options.ca_bundle) if options.ca_bundle else None,
            "ca_bundle_sha256": self.ca_bundle_sha256,
            "index_url": redact_url(options.index_url),
            "extra_index_url": redact_url(options.extra_index_url),
            "content_tag": self.tags[1],
            "catalogue_sha256": dockerfile.entry_sha256(self.release),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    number: int
    total: int
    instruction: str
    cached: bool
    seconds: float
    after_from: bool  # only steps after FROM can come from the cache (FROM and ARGs before it never do)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BuildResult:
    release_id: str
    image_id: str
    tags: tuple[str, ...]
    seconds: float
    steps: tuple[Step, ...]

    @property
    def cacheable_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.after_from)

    @property
    def cached_steps(self) -> int:
        return sum(1 for s in self.cacheable_steps if s.cached)

    @property
    def fully_cached(self) -> bool:
        return bool(self.cacheable_steps) and all(s.cached for s in self.cacheable_steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "release": self.release_id,
            "image_id": self.image_id,
            "tags": list(self.tags),
            "seconds": round(self.seconds, 3),
            "steps": len(self.steps),
            "cacheable_steps": len(self.cacheable_steps),
            "cached_steps": self.cached_steps,
        }


class BuildFailure(Exception):
    """A build that the daemon refused or whose step failed; `str()` is the one-line error."""

    def __init__(self, release_id: str, where: str, error: str) -> None:
        super().__init__(f"{release_id}: image build failed at {where}: {error}")
        self.release_id = release_id


def redact_url(url: str | None) -> str | None:
    """The URL without user:password, for records and logs."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _check_url(flag: str, url: str | None) -> None:
    if url is not None and not re.match(r"^(https?|file)://\S+$", url):
        raise UserError(f"{flag} {url!r} is not a URL like https://pypi.example.com/simple")


def read_ca_bundle(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"--ca-bundle {path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"--ca-bundle {path}: is a directory; give a PEM bundle file") from None
    except OSError as exc:
        raise UserError(f"--ca-bundle {path}: cannot read it: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise UserError(f"--ca-bundle {path}: no PEM certificate in it (no -----BEGIN CERTIFICATE----- line)")
    return data


def build_context(files: Mapping[str, bytes]) -> bytes:
    """A tar of `files` whose bytes depend only on names and contents (fixed mtime, mode, owner)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def plan(release: Release, catalogue: Catalogue, options: BuildOptions) -> BuildPlan:
    _check_url("--index-url", options.index_url)
    _check_url("--extra-index-url", options.extra_index_url)
    ca = read_ca_bundle(options.ca_bundle) if options.ca_bundle else b""
    text = dockerfile.render(release, catalogue)
    if options.extra_pip or options.extra_apt:
        text += dockerfile.extra_pip_step(options.extra_pip, options.extra_apt)
    context = build_context({"Dockerfile": text.encode("utf-8"), dockerfile.CA_CONTEXT_NAME: ca})
    base = options.base_image or release.base_ref
    args = {"BASE_IMAGE": base}
    if options.index_url:
        args["PIP_INDEX_URL"] = options.index_url
    if options.extra_index_url:
        args["PIP_EXTRA_INDEX_URL"] = options.extra_index_url
    skip = options.skip_tensorrt and release.install == "pip"
    if release.install == "pip":
        args["SKIP_TENSORRT"] = "1" if skip else "0"
    buildargs = tuple(sorted(args.items()))
    digest = hashlib.sha256(context + json.dumps(buildargs).encode("utf-8")).hexdigest()
    return BuildPlan(
        release=release,
        dockerfile=text,
        context=context,
        buildargs=buildargs,
        base_image=base,
        base_overridden=bool(options.base_image) and options.base_image != release.base_ref,
        skip_tensorrt=skip,
        content_tag=digest[:12],
        ca_bundle_sha256=hashlib.sha256(ca).hexdigest() if ca else None,
        no_cache=options.no_cache,
    )


class _Stream:
    """Follows the classic builder's JSON stream: steps, cache hits, output, the image id, errors."""

    def __init__(self, release_id: str, display: Display) -> None:
        self.release_id = release_id
        self.display = display
        self.steps: list[Step] = []
        self.current: tuple[int, int, str] | None = None
        self.current_cached = False
        self.current_started = 0.0
        self.announced = False
        self.seen_from = False
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.image_id = ""
        self.error = ""
        self.partial = ""

    @property
    def where(self) -> str:
        if self.current is None:
            return "the start (before any step)"
        number, total, instruction = self.current
        return f"step {number}/{total} ({short(instruction, 60)})"

    def _close_step(self) -> None:
        if self.current is None:
            return
        self._announce("running")
        number, total, instruction = self.current
        is_from = instruction.upper().startswith("FROM ")
        self.steps.append(
            Step(
                number=number,
                total=total,
                instruction=instruction,
                cached=self.current_cached,
                seconds=time.monotonic() - self.current_started,
                after_from=self.seen_from and not is_from,
            )
        )
        if is_from:
            self.seen_from = True
        self.current = None

    def _announce(self, state: str) -> None:
        if self.current is not None and not self.announced:
            self.announced = True
            number, total, instruction = self.current
            self.display.step(self.release_id, number, total, instruction, state)

    def _line(self, line: str) -> None:
        line = _ANSI.sub("", line.rstrip("\n").split("\r")[-1]).rstrip()
        step = _STEP.match(line)
        if step:
            self._close_step()
            self.current = (int(step.group(1)), int(step.group(2)), step.group(3).strip())
            self.current_cached = False
            self.current_started = time.monotonic()
            self.announced = False
            self.tail.clear()
            if not self.seen_from and self.current[2].upper().startswith("ARG "):
                self._announce("before FROM")
            return
        if not line.strip():
            return
        if line == " ---> Using cache":
            self.current_cached = True
            self._announce("cached")
            return
        if line.startswith(" ---> Running in "):
            self._announce("running")
            return
        if _RESULT.match(line):
            if self.current is not None and self.current[2].upper().startswith("FROM "):
                self._announce("base")
            return
        if line.startswith(("Removing intermediate container", "Successfully built", "Successfully tagged")):
            return
        self._announce("running")
        self.tail.append(line)
        self.display.output(self.release_id, line)

    def feed(self, chunk: Mapping[str, Any]) -> None:
        if "error" in chunk or "errorDetail" in chunk:
            detail = chunk.get("errorDetail") or {}
            self.error = str(chunk.get("error") or detail.get("message") or chunk).strip()
            return
        aux = chunk.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            self.image_id = aux["ID"]
        if "stream" in chunk:
            text = self.partial + str(chunk["stream"])
            *lines, self.partial = text.split("\n")
            for line in lines:
                self._line(line)
        elif "status" in chunk:  # pulling the base image
            status = str(chunk["status"])
            if chunk.get("id"):
                status = f"{chunk['id']}: {status}"
            if "progressDetail" not in chunk or not chunk.get("progressDetail"):
                self._line(status)

    def finish(self) -> None:
        if self.partial:
            self._line(self.partial)
            self.partial = ""
        if not self.error:
            self._close_step()


def _explain_error(error: str, plan: BuildPlan, at_from: bool, tail: Sequence[str] = ()) -> str:
    first = error.strip().splitlines()[0] if error.strip() else "the daemon gave no reason"
    if at_from:
        return (
            f"{first}; the base image {plan.base_image} is not available here: pull or load it first, "
            "or pass --base-image with a mirror or a local image"
        )
    output = "\n".join(tail)
    if "CERTIFICATE_VERIFY_FAILED" in output or "SSLCertVerificationError" in output:
        return (
            f"{first}; pip inside the build could not verify the package index's certificate: pass your "
            "proxy's CA with --ca-bundle FILE (for example /etc/ssl/certs/ca-certificates.crt)"
        )
    if "Could not find a version that satisfies" in output or "No matching distribution" in output:
        return f"{first}; pip found no matching package: check --index-url / --extra-index-url and the network"
    return first


def build(client: docker.DockerClient, plan: BuildPlan, display: Display) -> BuildResult:
    """Build one image; BuildFailure (after showing the step's output tail) when it fails."""
    import docker as docker_sdk

    rid = plan.release.id
    base = plan.base_image + (" (--base-image)" if plan.base_overridden else "")
    display.begin(rid, f"{plan.tags[0]} from {base}")
    stream = _Stream(rid, display)
    started = time.monotonic()
    try:
        chunks: Iterator[Mapping[str, Any]] = client.api.build(
            fileobj=io.BytesIO(plan.context),
            custom_context=True,
            tag=plan.tags[0],
            buildargs=dict(plan.buildargs),
            nocache=plan.no_cache,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            timeout=None,
        )
        for chunk in chunks:  # read to the end: the daemon closes the stream after an error
            stream.feed(chunk)
        stream.finish()
    except docker_sdk.errors.APIError as exc:
        stream.error = str(exc.explanation or exc)
    except (docker_sdk.errors.DockerException, OSError) as exc:  # requests' errors are OSErrors
        stream.error = f"lost the Docker daemon during the build: {exc}"
    if stream.error or not stream.image_id:
        error = stream.error or "the daemon finished without naming an image"
        display.failed(rid, stream.where, list(stream.tail))
        at_from = stream.current is not None and stream.current[2].upper().startswith("FROM ")
        raise BuildFailure(rid, stream.where, _explain_error(error, plan, at_from, list(stream.tail)))
    repo, _, content = plan.tags[1].rpartition(":")
    client.api.tag(stream.image_id, repo, content)
    result = BuildResult(
        release_id=rid,
        image_id=stream.image_id,
        tags=plan.tags,
        seconds=time.monotonic() - started,
        steps=tuple(stream.steps),
    )
    cached = f"{result.cached_steps}/{len(result.cacheable_steps)} steps from cache"
    display.finished(rid, f"built {plan.tags[0]} ({result.image_id[:19]}) in {result.seconds:.1f} s, {cached}")
    return result
