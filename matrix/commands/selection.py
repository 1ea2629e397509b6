"""The selectors `plan` and `run` share: releases, keywords, models, phases, shards.

Contract: `add_arguments(parser)` adds them; `resolve(args)` loads the catalogue and returns the
selected releases and planned cells, raising UserError for unknown ids, models or bad shards.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from matrix.catalogue import Catalogue, Release, load
from matrix.commands import catalogue_option
from matrix.errors import UserError
from matrix.suite import cells as cellmod


def default_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="IDS",
        help="releases to run, comma-separated ids or globs (trt86,trt10 or 'trt8*'); default: all",
    )
    p.add_argument(
        "-k",
        "--keyword",
        action="append",
        default=[],
        metavar="EXPR",
        help="keep cells whose id contains EXPR (a substring or glob; 'not EXPR' excludes); repeatable",
    )
    p.add_argument(
        "--models",
        default="",
        metavar="NAMES",
        help=f"comma-separated models, or 'all' (default: {','.join(cellmod.DEFAULT_MODELS)})",
    )
    p.add_argument(
        "--phase",
        choices=("0", "1", "2", "all"),
        default="all",
        help="run only one phase: 0 host tier-0 cells, 1 build/run in each image, 2 cross-load "
        "(phase 2 needs every producer's phase-1 artifacts); default: all",
    )
    p.add_argument(
        "--shard",
        default="",
        metavar="I/N",
        help="run shard I of N: whole releases, round-robin in catalogue order (host cells in shard 1)",
    )
    p.add_argument(
        "--api-releases",
        default="",
        metavar="IDS",
        help="phase 0: releases whose Python bindings to introspect from the package index "
        "(default: the selected releases; 'none' for none)",
    )
    p.add_argument(
        "--producers",
        default="",
        metavar="IDS",
        help="phase 2: whose artifacts each selected release loads (default: the selected releases; 'all': every "
        "catalogue release, for a CI job that downloaded everyone's phase-1 artifacts)",
    )
    catalogue_option(p)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Selection:
    catalogue: Catalogue
    releases: tuple[Release, ...]
    models: tuple[str, ...]
    keywords: tuple[str, ...]
    phases: tuple[int, ...]
    api_releases: tuple[str, ...]
    cells: tuple[cellmod.Cell, ...]


def resolve(args: argparse.Namespace) -> Selection:
    catalogue = load(args.catalogue)
    patterns = [p for text in args.only for p in text.split(",") if p.strip()]
    releases = catalogue.select(patterns)
    if args.models == "all":
        models = cellmod.MODELS
    else:
        models = tuple(m.strip() for m in args.models.split(",") if m.strip()) or cellmod.DEFAULT_MODELS
    unknown = [m for m in models if m not in cellmod.MODELS]
    if unknown:
        raise UserError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(cellmod.MODELS)}")
    phases = (0, 1, 2) if args.phase == "all" else (int(args.phase),)
    if args.api_releases == "none":
        api: tuple[str, ...] = ()
    elif args.api_releases:
        api = tuple(r.id for r in catalogue.select([p for p in args.api_releases.split(",") if p.strip()]))
    else:
        api = tuple(r.id for r in releases)
    ids = [r.id for r in releases]
    if args.producers == "all":
        producers = list(catalogue.ids)
    elif args.producers:
        producers = [r.id for r in catalogue.select([p for p in args.producers.split(",") if p.strip()])]
    else:
        producers = ids
    planned = cellmod.plan(
        ids, models=models, phases=phases, keywords=args.keyword, api_releases=api, producers=producers
    )
    if args.shard:
        try:
            index, count = cellmod.parse_shard(args.shard)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        planned = cellmod.shard(planned, index, count, ids)
    return Selection(
        catalogue=catalogue,
        releases=releases,
        models=tuple(models),
        keywords=tuple(args.keyword),
        phases=phases,
        api_releases=api,
        cells=tuple(planned),
    )
