"""exchange: the producer's artifacts reached this consumer intact and read-only (a harness check).

Phase 1 leaves artifacts/<release>/exchange.json listing every file it wrote with its sha256.
In phase 2 every consumer checks every producer's list against the files it sees, and, when the
runner mounted the artifacts read-only (TRT_MATRIX_ARTIFACTS_READONLY=1), that it cannot write
there. Needs no TensorRT and no GPU, so it runs on every tier.
"""

from __future__ import annotations

import errno
import json
import os
from typing import Any

from matrix.suite.outcome import CheckContext, Fail, Outcome, Skip, sha256_file

MANIFEST = "exchange.json"


def run(ctx: CheckContext) -> Outcome:
    producer_dir = ctx.producer_dir(ctx.cell.producer)
    manifest_path = producer_dir / MANIFEST
    if not manifest_path.is_file():
        raise Skip(
            f"no artifacts from {ctx.cell.producer} at {producer_dir}: its phase 1 did not run here "
            "(run it first, or copy its artifacts folder)"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files: dict[str, str] = manifest.get("files", {})
    problems: list[str] = []
    for rel, digest in sorted(files.items()):
        path = ctx.artifacts / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif digest and sha256_file(path) != digest:
            problems.append(f"{rel} differs from what {ctx.cell.producer} wrote (sha256)")
    measurements: dict[str, Any] = {"files": len(files), "producer_tensorrt": manifest.get("tensorrt")}
    if os.environ.get("TRT_MATRIX_ARTIFACTS_READONLY") == "1":
        probe = producer_dir / f".write-probe-{os.getpid()}"
        try:
            probe.write_bytes(b"")
        except OSError as exc:
            measurements["read_only"] = exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
            if not measurements["read_only"]:
                problems.append(f"writing a probe file failed unexpectedly: {exc}")
        else:
            probe.unlink()
            measurements["read_only"] = False
            problems.append(f"{producer_dir} is writable although the runner mounted it read-only")
    if problems:
        raise Fail("; ".join(problems[:5]), measurements=measurements)
    return Outcome(
        "pass",
        "{} file(s) from {} arrived intact{}".format(
            len(files), ctx.cell.producer, " and read-only" if measurements.get("read_only") else ""
        ),
        measurements=measurements,
    )
