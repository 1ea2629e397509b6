"""Per-release Dockerfiles, generated from the catalogue (`dockerfiles/<id>.Dockerfile`).

Contract: `render(release, catalogue)` is a pure function of the catalogue entry and the `[suite]`
requirements (same input, same bytes); `generate()` writes every release's file and removes stale
`*.Dockerfile` files; `check()` returns one `Problem` per missing, stale or extra file without
writing anything. The template is `matrix/images/templates/release.Dockerfile.j2`.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Literal

import jinja2

from matrix.catalogue import Catalogue, Release

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "release.Dockerfile.j2"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "dockerfiles"
SUFFIX = ".Dockerfile"

# Where things live inside every image; the runner and the BOM probe rely on these.
REPO_MOUNT = "/opt/trt-matrix"
USER = "trt"
UID = 1000
CA_PATH = "/etc/trt-matrix/ca-bundle.crt"
PIP_CONF = "/etc/trt-matrix/pip.conf"
CA_CONTEXT_NAME = "ca-bundle.crt"

_SHELL_SAFE_IN_DOUBLE_QUOTES = re.compile(r'^[^"$`\\]*$')


def entry_sha256(release: Release) -> str:
    """A stable digest of the catalogue entry (the `org.trt-matrix.catalogue-sha256` label)."""
    canonical = json.dumps(release.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _double_quoted(text: str) -> str:
    if not _SHELL_SAFE_IN_DOUBLE_QUOTES.match(text):
        raise ValueError(f'{text!r} cannot go into a RUN line: it holds one of " $ ` \\')
    return f'"{text}"'


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - a Dockerfile, not HTML
    )
    env.filters["dq"] = _double_quoted
    return env


def suite_requirements(release: Release, catalogue: Catalogue) -> tuple[str, ...]:
    """What the suite needs in this image: `[suite] pip` plus the release's numpy pin."""
    return (*catalogue.suite_pip, f"numpy{release.numpy}")


def render(release: Release, catalogue: Catalogue) -> str:
    template = _environment().get_template(TEMPLATE)
    return template.render(
        r=release,
        suite_requirements=suite_requirements(release, catalogue),
        entry_sha256=entry_sha256(release),
        repo_mount=REPO_MOUNT,
        user=USER,
        uid=UID,
        ca_path=CA_PATH,
        pip_conf=PIP_CONF,
    )


def extra_pip_step(requirements: tuple[str, ...], system: tuple[str, ...] = ()) -> str:
    """Steps appended to a rendered Dockerfile for a self-test image only (the generated, committed
    Dockerfiles and the images of real runs never hold them): apt installs `system` and pip installs
    `requirements`, as root."""
    steps = "\n# Self-test only (tests/double/selftest.toml [image]): what the TensorRT double needs.\nUSER root\n"
    if system:
        steps += (
            "RUN set -eu; apt-get update; apt-get install -y --no-install-recommends "
            + " ".join(system)
            + "; rm -rf /var/lib/apt/lists/*\n"
        )
    if requirements:
        steps += "RUN python3 -m pip install {}\n".format(" ".join(_double_quoted(r) for r in requirements))
    return steps + f"USER {USER}\n"


def file_name(release_id: str) -> str:
    return f"{release_id}{SUFFIX}"


def expected(catalogue: Catalogue) -> dict[str, str]:
    """File name -> content, for every release in the catalogue."""
    return {file_name(r.id): render(r, catalogue) for r in catalogue.releases}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Problem:
    path: Path
    kind: Literal["missing", "stale", "extra"]
    summary: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.summary}"


def _diff_summary(old: str, new: str) -> str:
    """'-2 +3 lines; first: -<committed line> +<generated line>' (a diff summary on one line)."""
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    changes = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    removed = [line for line in changes if line.startswith("-")]
    added = [line for line in changes if line.startswith("+")]
    first = " ".join(" ".join(line.split())[:160] for line in (removed[:1] + added[:1]))
    return f"-{len(removed)} +{len(added)} lines against what the catalogue generates; first: {first}"


def check(catalogue: Catalogue, directory: Path) -> list[Problem]:
    """What differs between `directory` and what the catalogue generates (nothing is written)."""
    problems: list[Problem] = []
    wanted = expected(catalogue)
    for name, content in wanted.items():
        path = directory / name
        if not path.is_file():
            problems.append(Problem(path=path, kind="missing", summary="not generated yet"))
            continue
        current = path.read_text(encoding="utf-8")
        if current != content:
            problems.append(Problem(path=path, kind="stale", summary=_diff_summary(current, content)))
    if directory.is_dir():
        for path in sorted(directory.glob(f"*{SUFFIX}")):
            if path.name not in wanted:
                problems.append(Problem(path=path, kind="extra", summary="no release with this id in the catalogue"))
    return problems


def generate(catalogue: Catalogue, directory: Path) -> tuple[list[Path], list[Path]]:
    """Write every release's Dockerfile; returns (written or rewritten files, removed stale files)."""
    directory.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    wanted = expected(catalogue)
    for name, content in wanted.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8", newline="\n")
            changed.append(path)
    removed = [p for p in sorted(directory.glob(f"*{SUFFIX}")) if p.name not in wanted]
    for path in removed:
        path.unlink()
    return changed, removed
