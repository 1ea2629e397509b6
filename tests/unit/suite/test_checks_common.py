"""`parsed_network`, the one place the checks parse an ONNX model, driven by a recording fake of the adapter.

The GPU paths that call it (serialize, destroy-order, INT8 builds) only run on a GPU image; what can be
shown here is its contract: the three objects come back to the caller, and a refusal is a Fail that
carries the parser's own errors and TensorRT's log.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from matrix.suite.checks.common import Session, parsed_network
from matrix.suite.outcome import Fail
from matrix.suite.schema import LogLine


class FakeApi:
    def __init__(self, ok: bool, errors: list[str]) -> None:
        self.ok, self.errors = ok, errors
        self.calls: list[str] = []

    def call(self, name: str, fn: Any, *args: Any) -> Any:
        self.calls.append(name)
        return fn(*args)

    def create_network(self, builder: Any) -> Any:
        self.calls.append("create_network")
        return SimpleNamespace(kind="network", builder=builder)

    def parse_onnx(self, network: Any, logger: Any, data: bytes) -> tuple[Any, bool, list[str]]:
        self.calls.append(f"parse_onnx({len(data)} bytes)")
        return SimpleNamespace(kind="parser"), self.ok, self.errors


def session(api: FakeApi, log: list[LogLine]) -> Session:
    trt = SimpleNamespace(Builder=lambda logger: SimpleNamespace(kind="builder", logger=logger))
    return Session(trt, api, None, SimpleNamespace(lines=log), 0)  # type: ignore[arg-type]


def test_a_parsed_model_hands_builder_network_and_parser_to_the_caller() -> None:
    api = FakeApi(True, [])
    builder, network, parser = parsed_network(session(api, []), b"onnx")
    assert (builder.kind, network.kind, parser.kind) == ("builder", "network", "parser")
    assert network.builder is builder
    assert api.calls == ["Builder", "create_network", "parse_onnx(4 bytes)"]


def test_a_refused_model_fails_with_the_parser_errors_and_the_log() -> None:
    log = [LogLine("error", "ModelImporter.cpp:771: While parsing node number 3 [Resize]")]
    api = FakeApi(False, ["node 3: unsupported", "node 7: unsupported", "node 9: unsupported", "node 11: x"])
    with pytest.raises(Fail) as caught:
        parsed_network(session(api, log), b"onnx")
    assert caught.value.reason == (
        "the ONNX parser refused the model: node 3: unsupported; node 7: unsupported; node 9: unsupported"
    )
    assert caught.value.log == log


def test_a_refusal_without_error_text_says_so() -> None:
    with pytest.raises(Fail, match=r"refused the model: no error text$"):
        parsed_network(session(FakeApi(False, []), []), b"")
