"""The local test base: a minimal Debian (python3, pip, venv, CA certificates) built with debootstrap.

Contract: `make(client, ...)` leaves the image `tag` in the daemon and returns its id, or returns the
existing one untouched when the tag exists and `force` is false. It needs root and debootstrap and
says so in a `UserError` when either is missing. CI and the benchmarks build release images on it
(`--base-image trt-matrix/test-base:bookworm`) where NVIDIA's registries are out of reach.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from matrix.errors import UserError

if TYPE_CHECKING:
    import docker

DEFAULT_TAG = "trt-matrix/test-base:bookworm"
DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
INCLUDE = ("python3", "python3-pip", "python3-venv", "ca-certificates")
CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    tag: str
    image_id: str
    built: bool


def find_debootstrap() -> str:
    found = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise UserError(
            "debootstrap not found: install it (sudo apt-get install debootstrap) "
            "or load a test base image another way and pass its tag with --tag"
        )
    return found


def require_root() -> None:
    if os.geteuid() != 0:
        raise UserError(
            "building the test base needs root (debootstrap creates device nodes and chroots): "
            "run it with sudo, or load a prebuilt test base image"
        )


def _mounts_below(root: Path) -> list[str]:
    try:
        lines = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    prefix = str(root.resolve()) + "/"
    return sorted(
        (p for p in (line.split()[1] for line in lines if len(line.split()) > 1) if p.startswith(prefix)),
        reverse=True,
    )


def _remove_tree(root: Path) -> None:
    """Delete the chroot, but never through a mount debootstrap may have left behind."""
    for mount in _mounts_below(root):
        subprocess.run(["umount", "-l", mount], check=False)
    left = _mounts_below(root)
    if left:
        raise UserError(f"{root}: still mounted at {left[0]}; unmount it and delete {root} by hand")
    shutil.rmtree(root, ignore_errors=True)


def make(
    client: docker.DockerClient,
    *,
    tag: str = DEFAULT_TAG,
    suite: str = DEFAULT_SUITE,
    mirror: str = DEFAULT_MIRROR,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> Outcome:
    import docker as docker_sdk

    try:
        existing = client.images.get(tag)
    except docker_sdk.errors.ImageNotFound:
        existing = None
    if existing is not None and not force:
        say(f"test-base: {tag} exists ({existing.id}); nothing to do (--force rebuilds it)")
        return Outcome(tag=tag, image_id=str(existing.id), built=False)
    require_root()
    debootstrap = find_debootstrap()
    if ":" not in tag.rsplit("/", 1)[-1]:
        tag = f"{tag}:latest"
    repository, _, version = tag.rpartition(":")
    work = Path(tempfile.mkdtemp(prefix="trt-matrix-test-base-", dir="/var/tmp"))
    rootfs = work / "rootfs"
    try:
        argv = [
            debootstrap,
            "--variant=minbase",
            "--include=" + ",".join(INCLUDE),
            suite,
            str(rootfs),
            mirror,
        ]
        say("test-base: " + " ".join(argv))
        result = subprocess.run(argv, check=False, capture_output=True, text=True, errors="replace")
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
            for line in tail:
                say(f"test-base: | {line}")
            last = tail[-1] if tail else f"exit status {result.returncode}"
            raise UserError(f"debootstrap {suite} from {mirror} failed: {last}")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        archive = work / "rootfs.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        say(f"test-base: importing {archive.stat().st_size / 1e6:.0f} MB as {tag}")
        answer = client.api.import_image_from_file(
            str(archive), repository=repository, tag=version, changes=list(CHANGES)
        )
        image_id = str(client.images.get(tag).id)
        say(f"test-base: {tag} is {image_id} ({_status(answer)})")
        return Outcome(tag=tag, image_id=image_id, built=True)
    finally:
        _remove_tree(work)


def _status(answer: object) -> str:
    text = answer if isinstance(answer, str) else json.dumps(answer)
    return text.strip().splitlines()[-1][:120] if text.strip() else "imported"
