"""Log recognisers: each example text is recognised as its own class; citations are URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix.suite import classify

PATTERNS = json.loads(classify.PATTERNS_FILE.read_text(encoding="utf-8"))["patterns"]


@pytest.mark.parametrize("entry", PATTERNS, ids=[p["id"] for p in PATTERNS])
def test_each_example_is_recognised_as_its_own_class(entry: dict[str, str]) -> None:
    match = classify.classify([entry["example"]])
    assert match is not None and match.pattern.id == entry["id"]
    assert entry["citation"].startswith("https://")


def test_known_issue_texts_verbatim() -> None:
    builder = (
        "[E] [TRT] 3: [builder.cpp::~Builder::307] Error Code 3: API Usage Error (Parameter check failed at: "
        "optimizer/api/builder.cpp::~Builder::307, condition: mObjectCounter.use_count() == 1. Destroying a "
        "builder object before destroying objects it created leads to undefined behavior."
    )
    assert classify.classify([builder]).pattern.id == "destroy-order-builder"  # type: ignore[union-attr]
    tag = (
        "Serialization assertion stdVersionRead == serializationVersion failed.Version tag does not match. "
        "Note: Current Version: 213, Serialized Engine Version: 205"
    )
    assert classify.classify(["[I] unrelated", tag]).pattern.id == "serialization-tag"  # type: ignore[union-attr]
    wrapped = (
        "1: [stdArchiveReader.cpp::StdArchiveReader::32] Error Code 1: Serialization (Serialization assertion "
        "magicTag == rt::kPLAN_MAGIC_TAG failed.)"
    )
    assert classify.classify([wrapped]).pattern.id == "not-a-plan"  # type: ignore[union-attr]


def test_nothing_recognised_is_none_and_only_restricts() -> None:
    assert classify.classify(["[I] Loaded engine size: 2 MiB"]) is None
    text = ["IExecutionContext::enqueueV3: Error Code 1: Cuda Runtime (invalid resource handle)"]
    assert classify.classify(text, only=["cutensor-permutate"]) is None
    assert classify.classify(text, only=["invalid-resource-handle"]) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"\xff", "not readable as UTF-8 JSON"),
        (b"[]", "expected an object with a 'patterns' list"),
        (b'{"patterns": [7]}', "pattern 1: expected an object"),
        (b'{"patterns": [{"id": "x", "regex": "(", "meaning": "m", "citation": "c"}]}', "regex does not compile"),
        (b'{"patterns": [{"id": "x", "regex": "a", "meaning": 3, "citation": "c"}]}', "field 'meaning'"),
    ],
)
def test_a_broken_patterns_file_is_one_error_naming_file_and_entry(tmp_path: Path, text: bytes, message: str) -> None:
    path = tmp_path / "log_patterns.json"
    path.write_bytes(text)
    with pytest.raises(classify.PatternsError, match=message) as raised:
        classify.load(path)
    assert str(raised.value).startswith(str(path))


def test_the_packaged_patterns_load() -> None:
    assert len(classify.load(classify.PATTERNS_FILE)) >= 10
