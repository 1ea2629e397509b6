"""The bill of materials of built images: probed from the image itself, stored by image id.

Contract: `probe_image(client, image_id)` runs `matrix/suite/bom.py` in a short container with no
network and returns what it printed (every fact the image could not show is None with a note).
`read_probe_output(text)` checks what the probe printed (`problem(bom)` says what is wrong): a
damaged answer becomes a failed probe with the reason, never an exception. `ensure(...)` probes only
when no stored BOM exists for that image id (a damaged stored one counts as none), so a no-op rebuild
stays fast, and writes `<cache>/images/<image-id>.json` (schema `trt-matrix.image/1`). `rows(...)` reads images
and stored BOMs back for `trt-matrix images list`. The catalogue is never consulted for a fact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matrix.catalogue import Release
from matrix.images.build import latest_tag
from matrix.suite import bom as bom_module

if TYPE_CHECKING:
    import docker

SCHEMA = "trt-matrix.image/1"
PROBE_DIR = "/trt-matrix-probe"
PROBE_TIMEOUT_S = 180
# The facts `images list` shows and build summaries name, with their labels.
LABELS = {
    "os": "OS",
    "python": "Python",
    "numpy": "numpy",
    "tensorrt_python": "TensorRT (python)",
    "tensorrt_trtexec": "TensorRT (trtexec)",
    "cuda_runtime": "CUDA",
}


def cache_dir() -> Path:
    """$TRT_MATRIX_CACHE, else $XDG_CACHE_HOME/trt-matrix, else ~/.cache/trt-matrix."""
    explicit = os.environ.get("TRT_MATRIX_CACHE", "").strip()
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "trt-matrix"


def store_path(image_id: str, root: Path | None = None) -> Path:
    return (root or cache_dir()) / "images" / f"{image_id.replace(':', '-')}.json"


def load(image_id: str, root: Path | None = None) -> dict[str, Any] | None:
    """The stored record, or None when there is none or it is damaged (then the image is probed again)."""
    path = store_path(image_id, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, not UTF-8 (a ValueError), not JSON
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or problem(data.get("bom")) is not None:
        return None
    return data


def problem(bom: object) -> str | None:
    """What is wrong with a bill of materials as `matrix/suite/bom.py` prints it, or None: an object of
    schema trt-matrix.bom/1, every fact a string or null (`gpu`: a list of objects of strings), `notes`
    and `sources` objects of strings."""
    if not isinstance(bom, dict):
        return f"it printed JSON that is not an object ({type(bom).__name__})"
    if bom.get("schema") != bom_module.SCHEMA:
        return f"schema {bom.get('schema')!r:.40}, expected {bom_module.SCHEMA!r}"
    for fact in bom_module.FACTS:
        if fact not in bom:
            return f"fact {fact!r} is missing"
        value = bom[fact]
        if fact == "gpu" and value is not None:
            if not isinstance(value, list) or not all(
                isinstance(g, dict) and all(isinstance(v, str) for v in g.values()) for g in value
            ):
                return f"fact 'gpu' should be a list of objects of strings, not {json.dumps(value)[:60]}"
        elif fact != "gpu" and value is not None and not isinstance(value, str):
            return f"fact {fact!r} should be a string or null, not {json.dumps(value)[:60]}"
    for part in ("notes", "sources"):
        table = bom.get(part)
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            return f"{part!r} should be an object of strings"
    return None


def read_probe_output(out: str) -> dict[str, Any]:
    """What the probe printed, checked: its bill of materials, or a failed probe saying what was wrong."""
    try:
        data = json.loads(out)
    except ValueError:  # JSONDecodeError, or a number too long to convert
        return _failed_probe("it printed no JSON: " + (" ".join(out.split())[:200] or "no output"))
    wrong = problem(data)
    return _failed_probe(wrong) if wrong is not None else data


def _probe_archive() -> bytes:
    """A tar holding `trt-matrix-probe/bom.py`, to be unpacked at / in the probe container."""
    script = Path(bom_module.__file__).read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        folder = tarfile.TarInfo(PROBE_DIR.strip("/"))
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, 0
        tar.addfile(folder)
        info = tarfile.TarInfo(PROBE_DIR.strip("/") + "/bom.py")
        info.size, info.mode, info.mtime = len(script), 0o644, 0
        tar.addfile(info, io.BytesIO(script))
    return buffer.getvalue()


def _failed_probe(reason: str) -> dict[str, Any]:
    facts = {name: None for name in bom_module.FACTS}
    return {
        "schema": bom_module.SCHEMA,
        **facts,
        "notes": dict.fromkeys(bom_module.FACTS, f"the probe could not run in the image: {reason}"),
        "sources": {},
        "probe_error": reason,
    }


def probe_image(client: docker.DockerClient, image_id: str) -> dict[str, Any]:
    """Run the BOM probe inside the image (no network, no GPU, removed afterwards)."""
    import docker as docker_sdk

    container = client.containers.create(
        image_id,
        command=["python3", f"{PROBE_DIR}/bom.py"],
        entrypoint=[],
        network_disabled=True,
        working_dir=PROBE_DIR,
        labels={"org.trt-matrix.role": "bom-probe"},
    )
    try:
        container.put_archive("/", _probe_archive())
        container.start()
        try:
            status = container.wait(timeout=PROBE_TIMEOUT_S)
        except Exception:  # requests' ReadTimeout or a connection error
            return _failed_probe(f"no answer within {PROBE_TIMEOUT_S} s")
        out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")
        code = int(status.get("StatusCode", -1))
        if code != 0:
            last = err.strip().splitlines()[-1] if err.strip() else f"exit status {code}"
            return _failed_probe(f"exit status {code}: {last}")
        return read_probe_output(out)
    except docker_sdk.errors.APIError as exc:
        return _failed_probe(str(exc.explanation or exc))
    finally:
        with contextlib.suppress(docker_sdk.errors.APIError):
            container.remove(force=True)


def image_facts(client: docker.DockerClient, image_id: str) -> dict[str, Any]:
    attrs = client.images.get(image_id).attrs
    config = attrs.get("Config") or {}
    return {
        "id": attrs.get("Id", image_id),
        "tags": sorted(attrs.get("RepoTags") or []),
        "repo_digests": sorted(attrs.get("RepoDigests") or []),
        "size": attrs.get("Size"),
        "created": attrs.get("Created"),
        "labels": dict(config.get("Labels") or {}),
    }


def ensure(
    client: docker.DockerClient,
    release: Release,
    image_id: str,
    build: dict[str, Any],
    root: Path | None = None,
) -> tuple[dict[str, Any], bool]:
    """The stored record for `image_id`, probing and writing it when absent. (record, probed now)."""
    existing = load(image_id, root)
    if existing is not None:
        return existing, False
    import docker as docker_sdk

    base_id = None
    try:
        base_id = client.images.get(build["base_image"]).id
    except docker_sdk.errors.DockerException:
        base_id = None
    record = {
        "schema": SCHEMA,
        "release": release.id,
        "image": image_facts(client, image_id),
        "build": {**build, "base_image_id": base_id},
        "bom": probe_image(client, image_id),
        "probed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = store_path(image_id, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return record, True


def rows(client: docker.DockerClient, releases: tuple[Release, ...], root: Path | None = None) -> list[dict[str, Any]]:
    """One entry per release: its `latest` image (or why none) and the stored BOM (or why none)."""
    import docker as docker_sdk

    out: list[dict[str, Any]] = []
    for release in releases:
        tag = latest_tag(release.id)
        entry: dict[str, Any] = {"release": release.id, "tag": tag, "image": None, "build": None, "bom": None}
        try:
            image_id = str(client.images.get(tag).id)
        except docker_sdk.errors.ImageNotFound:
            entry["note"] = f"not built (trt-matrix images build --only {release.id})"
            out.append(entry)
            continue
        entry["image"] = image_facts(client, image_id)
        stored = load(image_id, root)
        if stored is None:
            entry["note"] = f"no stored BOM for this image id (rebuild: trt-matrix images build --only {release.id})"
        else:
            entry["build"] = stored.get("build")
            entry["bom"] = stored.get("bom")
            entry["probed_at"] = stored.get("probed_at")
        out.append(entry)
    return out


def summary(bom: dict[str, Any]) -> str:
    """'OS ..., Python ..., numpy ..., TensorRT (python) absent, ...' (the reasons are in `images list`)."""
    return ", ".join(
        f"{label} {bom[key]}" if bom.get(key) is not None else f"{label} absent" for key, label in LABELS.items()
    )
