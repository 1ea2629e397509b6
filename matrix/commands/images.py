"""`trt-matrix images`: generate the Dockerfiles, build the images, list them with their BOM, and
build the local test base.

Contract: `generate --check` exits 1 naming each missing, stale or extra Dockerfile; every input
problem (unknown release, malformed catalogue, missing CA bundle, no Docker daemon, a failed build)
is a one-line `UserError` (exit 2), a failed build after the failing step's output tail.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matrix.commands import catalogue_option

if TYPE_CHECKING:
    from matrix.images.build import BuildOptions


def add_build_options(p: Any) -> None:
    """The image-build options that `images build` and `run --docker` share (p: a parser or an argument group)."""
    p.add_argument(
        "--base-image",
        metavar="IMAGE",
        help="use IMAGE instead of the catalogue's base (a mirror, an air-gapped registry, a local "
        "test base); the stored BOM records it",
    )
    p.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="a PEM bundle that pip (and apt over https) trust inside the image; it stays in the image at "
        "/etc/trt-matrix/ca-bundle.crt",
    )
    p.add_argument(
        "--index-url",
        metavar="URL",
        help="pip index for the build: a build arg, not in the image's files or environment, but "
        "`docker history` shows it, so keep credentials out of it",
    )
    p.add_argument("--extra-index-url", metavar="URL", help="an extra pip index for the build (a build arg, as above)")
    p.add_argument(
        "--skip-tensorrt",
        action="store_true",
        help="leave out the pip install of TensorRT (install = 'pip' releases), for test bases that cannot "
        "reach NVIDIA's index; the BOM then shows TensorRT absent",
    )


def build_options(args: argparse.Namespace, no_cache: bool = False) -> BuildOptions:
    """images.BuildOptions from the options add_build_options() defined."""
    from matrix.images import build as images

    return images.BuildOptions(
        base_image=args.base_image,
        ca_bundle=args.ca_bundle,
        index_url=args.index_url,
        extra_index_url=args.extra_index_url,
        skip_tensorrt=args.skip_tensorrt,
        no_cache=no_cache,
    )


def _only_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="IDS",
        help="release ids or globs, comma-separated or repeated (default: every release)",
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "images",
        help="generate Dockerfiles, build the per-release images, list them with their bill of materials",
        description="Per-release images: one Dockerfile per release generated from matrix/versions.toml, "
        "built through the Docker SDK with the layer cache, and probed for what they really carry.",
    )
    images = p.add_subparsers(dest="images_command", metavar="SUBCOMMAND")
    images.required = True

    g = images.add_parser(
        "generate",
        help="write dockerfiles/<id>.Dockerfile from the catalogue",
        description="Write one Dockerfile per release into dockerfiles/ (removing ones of releases that are "
        "gone). With --check, write nothing and exit 1 if the committed files differ (CI runs this).",
    )
    g.add_argument("--check", action="store_true", help="compare only; exit 1 naming each stale or missing file")
    catalogue_option(g)
    g.add_argument(
        "--dockerfiles",
        type=Path,
        default=None,
        metavar="DIR",
        help="the directory to write or check (default: dockerfiles/)",
    )
    g.add_argument(
        "--tox",
        type=Path,
        default=None,
        metavar="FILE",
        help="the tox.ini to write or check (default: tox.ini at the repository root)",
    )
    g.set_defaults(func=run_generate)

    b = images.add_parser(
        "build",
        help="build the release images (trt-matrix/<id>:latest) and record their bill of materials",
        description="Build each release's image from its generated Dockerfile through the Docker SDK, tag it "
        "trt-matrix/<id>:latest and trt-matrix/<id>:<content hash>, then probe it (no network) for its OS, "
        "Python, numpy, TensorRT, CUDA and store that by image id. An unchanged image rebuilds from cache.",
    )
    _only_option(b)
    add_build_options(b)
    b.add_argument("--no-cache", action="store_true", help="rebuild every layer")
    b.add_argument("--verbose", "-v", action="store_true", help="show every build output line")
    catalogue_option(b)
    b.set_defaults(func=run_build)

    ls = images.add_parser(
        "list",
        help="the built release images and what they carry",
        description="One row per release: its trt-matrix/<id>:latest image and the bill of materials probed "
        "from it at build time ('absent' where the image does not carry a thing; the notes say why).",
    )
    _only_option(ls)
    ls.add_argument("--json", action="store_true", help="print JSON for scripts")
    catalogue_option(ls)
    ls.set_defaults(func=run_list)

    t = images.add_parser(
        "test-base",
        help="build the local test base image with debootstrap (needs root)",
        description="Build a minimal Debian image (python3, pip, venv, CA certificates) with debootstrap "
        "--variant=minbase and import it into Docker. Nothing happens when the tag exists, unless --force.",
    )
    t.add_argument("--tag", default="trt-matrix/test-base:bookworm", help="image tag (default: %(default)s)")
    t.add_argument("--suite", default="bookworm", help="Debian suite (default: %(default)s)")
    t.add_argument(
        "--mirror",
        default="http://deb.debian.org/debian",
        metavar="URL",
        help="Debian mirror (default: %(default)s)",
    )
    t.add_argument("--force", action="store_true", help="rebuild even when the tag exists")
    t.set_defaults(func=run_test_base)


def _selected(args: argparse.Namespace) -> tuple[Any, tuple[Any, ...]]:
    from matrix import catalogue

    cat = catalogue.load(args.catalogue)
    patterns = [p for item in args.only for p in item.split(",")]
    return cat, cat.select(patterns)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_generate(args: argparse.Namespace) -> int:
    from matrix import catalogue
    from matrix.images import dockerfile, toxgen

    cat = catalogue.load(args.catalogue)
    directory = args.dockerfiles or dockerfile.DEFAULT_DIR
    tox_path = args.tox or toxgen.DEFAULT_PATH
    tox_text = toxgen.render(cat)
    if args.check:
        problems = dockerfile.check(cat, directory)
        if not tox_path.is_file() or tox_path.read_text(encoding="utf-8") != tox_text:
            problems.append(
                dockerfile.Problem(
                    path=tox_path,
                    kind="stale" if tox_path.is_file() else "missing",
                    summary="differs from what the catalogue generates",
                )
            )
        if not problems:
            print(f"{_shown(directory)}: {len(cat.releases)} Dockerfiles match the catalogue; {_shown(tox_path)} too")
            return 0
        for problem in problems:
            print(f"trt-matrix: {_shown(problem.path)}: {problem.kind}: {problem.summary}", file=sys.stderr)
        print(
            f"trt-matrix: {len(problems)} Dockerfile(s) out of date with {cat.path.name}; "
            "run `trt-matrix images generate` and commit the result",
            file=sys.stderr,
        )
        return 1
    changed, removed = dockerfile.generate(cat, directory)
    if not tox_path.is_file() or tox_path.read_text(encoding="utf-8") != tox_text:
        tox_path.write_text(tox_text, encoding="utf-8", newline="\n")
        changed.append(tox_path)
    for path in changed:
        print(f"wrote {_shown(path)}")
    for path in removed:
        print(f"removed {_shown(path)} (no such release in the catalogue)")
    if not changed and not removed:
        print(f"{_shown(directory)}: {len(cat.releases)} Dockerfiles already up to date")
    return 0


def run_build(args: argparse.Namespace) -> int:
    from matrix import docker_env
    from matrix.errors import UserError
    from matrix.images import bom as image_bom
    from matrix.images import build as images
    from matrix.images import display as build_display
    from matrix.images import dockerfile

    cat, releases = _selected(args)
    options = build_options(args, no_cache=args.no_cache)
    plans = [images.plan(r, cat, options) for r in releases]
    client = docker_env.connect()
    failures: list[str] = []
    with build_display.choose(args.verbose) as display:
        if args.catalogue is None:
            for problem in dockerfile.check(cat, dockerfile.DEFAULT_DIR):
                if problem.path.stem in {r.id for r in releases} and problem.kind != "extra":
                    display.note(
                        problem.path.stem,
                        f"note: {problem.path} is {problem.kind}; building from the catalogue "
                        "(run `trt-matrix images generate` and commit it)",
                    )
        for flag, url in (("--index-url", options.index_url), ("--extra-index-url", options.extra_index_url)):
            if url and images.redact_url(url) != url:
                display.note("build", f"note: {flag} holds credentials; `docker history` of the images will show them")
        for plan in plans:
            if options.skip_tensorrt and plan.release.install != "pip":
                display.note(plan.release.id, "note: --skip-tensorrt has no effect: TensorRT comes with the base image")
            try:
                result = images.build(client, plan, display)
            except images.BuildFailure as exc:
                failures.append(str(exc))
                continue
            record, probed = image_bom.ensure(
                client, plan.release, result.image_id, {**plan.record(options), **result.to_json()}
            )
            how = "probed" if probed else "unchanged image, stored BOM"
            display.note(plan.release.id, f"BOM ({how}): {image_bom.summary(record['bom'])}")
    if failures:
        raise UserError(" | ".join(failures))
    return 0


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return "-"
    return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:.0f} MB"


def _fact(bom: dict[str, Any] | None, key: str) -> str:
    if bom is None:
        return "-"
    value = bom.get(key)
    return "absent" if value is None else str(value)


def run_list(args: argparse.Namespace) -> int:
    from matrix import docker_env
    from matrix.images import bom as image_bom

    _, releases = _selected(args)
    client = docker_env.connect()
    entries = image_bom.rows(client, releases)
    if args.json:
        print(json.dumps(entries, indent=2, sort_keys=True))
        return 0
    header = (
        "release", "tag", "image id", "size", "created", "base", "OS", "Python", "numpy",
        "TensorRT (python)", "TensorRT (trtexec)", "CUDA",
    )  # fmt: skip
    table = [header]
    notes: list[str] = []
    for entry in entries:
        image = entry["image"] or {}
        build = entry["build"] or {}
        bom = entry["bom"]
        labels = image.get("labels") or {}
        base = build.get("base_image") or labels.get("org.trt-matrix.base-image") or "-"
        created = str(image.get("created") or "-")[:16].replace("T", " ")
        table.append(
            (
                entry["release"],
                entry["tag"],
                str(image.get("id", "-")).removeprefix("sha256:")[:12],
                _size(image.get("size")),
                created,
                base,
                _fact(bom, "os"),
                _fact(bom, "python"),
                _fact(bom, "numpy"),
                _fact(bom, "tensorrt_python"),
                _fact(bom, "tensorrt_trtexec"),
                _fact(bom, "cuda_runtime"),
            )
        )
        if entry.get("note"):
            notes.append(f"{entry['release']}: {entry['note']}")
        if build.get("skip_tensorrt"):
            notes.append(f"{entry['release']}: built with --skip-tensorrt (no TensorRT install step)")
        if bom is not None:
            for key, label in image_bom.LABELS.items():
                if bom.get(key) is None:
                    why = (bom.get("notes") or {}).get(key, "no note")
                    notes.append(f"{entry['release']}: {label} absent: {why}")
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if notes:
        print()
        for note in notes:
            print(note)
    return 0


def run_test_base(args: argparse.Namespace) -> int:
    from matrix import docker_env
    from matrix.images import test_base

    client = docker_env.connect()
    test_base.make(client, tag=args.tag, suite=args.suite, mirror=args.mirror, force=args.force)
    return 0
