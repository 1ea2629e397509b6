"""Which GPUs this host has, and whether Docker can hand them to containers.

Contract: `discover()` returns the host's NVIDIA GPUs from `nvidia-smi` (none, with the reason, when
it is absent or fails); `docker_gpu_support(client)` says whether the daemon has the NVIDIA runtime
(or CDI) that `--gpus` needs. Nothing here guesses: an unreadable value is absent with a reason.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from typing import Any

QUERY = "index,name,uuid,compute_cap,driver_version,memory.total"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Gpu:
    index: int
    name: str
    uuid: str
    compute_capability: str
    driver: str
    memory: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class GpuReport:
    gpus: tuple[Gpu, ...]
    reason: str  # why there are none, or "" when there are some

    @property
    def count(self) -> int:
        return len(self.gpus)


def parse_nvidia_smi(text: str) -> tuple[Gpu, ...]:
    gpus = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 6 or not parts[0].isdigit():
            continue
        gpus.append(
            Gpu(
                index=int(parts[0]),
                name=parts[1],
                uuid=parts[2],
                compute_capability=parts[3],
                driver=parts[4],
                memory=parts[5],
            )
        )
    return tuple(gpus)


def discover(timeout: float = 20.0) -> GpuReport:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return GpuReport(gpus=(), reason="no NVIDIA GPU: nvidia-smi not found (no NVIDIA driver on this host)")
    try:
        proc = subprocess.run(
            [smi, f"--query-gpu={QUERY}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return GpuReport(gpus=(), reason=f"no NVIDIA GPU: nvidia-smi failed ({exc})")
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return GpuReport(gpus=(), reason=f"no NVIDIA GPU: nvidia-smi exited {proc.returncode}: {tail[0]}")
    gpus = parse_nvidia_smi(proc.stdout)
    return GpuReport(gpus=gpus, reason="" if gpus else "no NVIDIA GPU: nvidia-smi lists none")


def docker_gpu_support(client: Any) -> tuple[bool, str]:
    """(True, "") when containers can get GPUs (the NVIDIA runtime); else (False, why) naming the fix."""
    try:
        info = client.info()
    except Exception as exc:  # the daemon's own error text is what the user needs
        return False, f"docker info failed: {exc}"
    runtimes = set((info.get("Runtimes") or {}).keys())
    if "nvidia" in runtimes:
        return True, ""
    return False, (
        "Docker has no NVIDIA runtime: install the NVIDIA Container Toolkit and run "
        "`nvidia-ctk runtime configure --runtime=docker`, then restart dockerd"
    )
