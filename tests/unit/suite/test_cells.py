"""The planner: stable order, selectors, shards that partition, ids that round-trip."""

from __future__ import annotations

import pytest

from matrix.suite import cells

RELEASES = ["trt84", "trt86", "trt10"]


def test_plan_is_stable_and_ids_are_unique() -> None:
    first = cells.plan(RELEASES)
    second = cells.plan(RELEASES)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)


def test_phase_one_cells_stay_in_their_release_and_phase_two_crosses() -> None:
    planned = cells.plan(RELEASES, phases=(1, 2))
    for cell in planned:
        if cell.phase == 1:
            assert cell.producer == cell.consumer
    pairs = {(c.producer, c.consumer) for c in planned if c.check == "deserialize"}
    assert pairs == {(p, c) for p in RELEASES for c in RELEASES}


def test_ids_round_trip() -> None:
    for cell in cells.plan(RELEASES, models=cells.MODELS, api_releases=["trt86"]):
        assert cells.Cell.from_id(cell.id) == cell
        assert cells.Cell.from_id(cell.id).phase == cell.phase


def test_bad_id_is_refused_with_the_expected_form() -> None:
    with pytest.raises(ValueError, match="expected check:producer>consumer"):
        cells.Cell.from_id("serialize:trt86")


def test_keyword_selection_includes_and_excludes() -> None:
    planned = cells.plan(RELEASES)
    int8 = cells.select(planned, ["int8"])
    assert int8 and all("int8" in c.id for c in int8)
    no_int8 = cells.select(planned, ["not int8"])
    assert no_int8 and not any("int8" in c.id for c in no_int8)
    assert len(int8) + len(no_int8) == len(planned)
    globbed = cells.select(planned, ["deserialize:trt84>*"])
    assert globbed and {c.producer for c in globbed} == {"trt84"}


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        cells.plan(RELEASES, models=["resnet"])


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_partition_the_run(count: int) -> None:
    planned = cells.plan(RELEASES)
    shards = [cells.shard(planned, i, count, RELEASES) for i in range(1, count + 1)]
    seen = [c.id for s in shards for c in s]
    assert sorted(seen) == sorted(c.id for c in planned)
    assert len(seen) == len(set(seen))


def test_a_shard_owns_whole_releases() -> None:
    planned = cells.plan(RELEASES, phases=(1, 2))
    one = cells.shard(planned, 1, 2, RELEASES)
    assert {c.consumer for c in one} == {"trt84", "trt10"}


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        cells.parse_shard(text)


def test_release_globs_keep_catalogue_order_and_refuse_unknown_names() -> None:
    known = ["trt84", "trt85", "trt86", "trt10"]
    assert cells.releases_matching(["trt8*"], known) == ["trt84", "trt85", "trt86"]
    assert cells.releases_matching(["trt10", "trt84"], known) == ["trt84", "trt10"]
    with pytest.raises(ValueError, match="unknown release id"):
        cells.releases_matching(["trt99"], known)
