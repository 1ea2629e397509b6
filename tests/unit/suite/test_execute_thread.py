"""The worker-thread variants of the execute check: only TensorRT's enqueue and the stream synchronisation
run in the thread (#22 item 3), and a thread that outlives its limit keeps its CUDA context alive.

With no current context, the CUDA runtime binds the primary context in the thread, so a harness
memset or copy there fails before TensorRT runs: the variant would then blame the harness. The fakes
record which thread made each call; the check's real `_worker_thread` runs."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from matrix.suite.checks import execute
from matrix.suite.outcome import Fail

MAIN = threading.main_thread().name


class Calls:
    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    def add(self, what: str) -> None:
        self.log.append((threading.current_thread().name, what))

    def in_worker(self) -> list[str]:
        return [what for who, what in self.log if who != MAIN]


class FakeCuda:
    backend = "fake"

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.destroyed = False

    def ctx_create(self, device: int) -> int:
        self.calls.add("ctx_create")
        return 7

    def ctx_push(self, ctx: int) -> None:
        self.calls.add("ctx_push")

    def ctx_pop(self) -> None:
        self.calls.add("ctx_pop")

    def ctx_destroy(self, ctx: int) -> None:
        self.calls.add("ctx_destroy")
        self.destroyed = True

    def stream_create(self) -> int:
        return 1

    def stream_destroy(self, stream: int) -> None:
        self.calls.add("stream_destroy")

    def stream_synchronize(self, stream: int) -> None:
        self.calls.add("stream_synchronize")

    def last_error(self) -> str:
        self.calls.add("last_error")
        return ""


def fake_inference(calls: Calls, block: threading.Event | None = None) -> type:
    class FakeInference:
        def __init__(self, session: Any, engine: Any) -> None:
            pass

        def run(self, path: str, inputs: Any, stream: int) -> tuple[bool, dict[str, np.ndarray]]:
            calls.add("run " + path)
            return True, {"out": np.ones(3, np.float32)}

        def clear_outputs(self) -> None:
            calls.add("memset outputs")

        def load_inputs(self, inputs: Any, stream: int | None = None) -> None:
            calls.add("copy inputs")

        def enqueue(self, path: str, stream: int) -> bool:
            calls.add("enqueue " + path)
            if block is not None:
                block.wait(5)
            return True

        def read_outputs(self, stream: int | None = None) -> dict[str, np.ndarray]:
            calls.add("copy outputs")
            return {"out": np.ones(3, np.float32)}

        def close(self) -> None:
            calls.add("close")

    return FakeInference


def setup(monkeypatch: pytest.MonkeyPatch, calls: Calls, block: threading.Event | None = None) -> Any:
    monkeypatch.setattr(execute, "_engine", lambda ctx, session: (object(), object(), "built in this cell"))
    monkeypatch.setattr(execute, "read_reference", lambda ctx, model: ({"input": np.zeros(1)}, {"out": np.ones(3)}))
    monkeypatch.setattr(execute, "weights_label", lambda ctx, model: "synthetic(seed=0)")
    monkeypatch.setattr(execute, "Inference", fake_inference(calls, block))
    monkeypatch.setattr(execute, "_judge", lambda *a, **k: [])
    cuda = FakeCuda(calls)
    session = SimpleNamespace(cuda=cuda, device=0, gpu=lambda: {"name": "fake"}, log_lines=lambda: [])
    cell = SimpleNamespace(model="scrfd-500m", precision="fp32", variant="thread-no-context")
    return SimpleNamespace(cell=cell, options={"thread_timeout_s": 0.2}), session


@pytest.mark.parametrize("push", [False, True])
def test_only_the_enqueue_and_its_synchronisation_run_in_the_thread(
    monkeypatch: pytest.MonkeyPatch, push: bool
) -> None:
    calls = Calls()
    ctx, session = setup(monkeypatch, calls)
    outcome = execute._worker_thread(ctx, session, "execute_async_v3", push_context=push)
    assert outcome.status == "pass"
    pushed = ["ctx_push"] if push else []
    assert calls.in_worker() == [*pushed, "enqueue execute_async_v3", "stream_synchronize", "last_error"] + (
        ["ctx_pop"] if push else []
    )
    main = [what for who, what in calls.log if who == MAIN]
    assert "copy inputs" in main and "memset outputs" in main and "copy outputs" in main
    assert session.cuda.destroyed


def test_a_thread_past_its_limit_keeps_the_context_it_may_still_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    release = threading.Event()
    ctx, session = setup(monkeypatch, calls, block=release)
    try:
        with pytest.raises(Fail, match="did not finish within its limit"):
            execute._worker_thread(ctx, session, "execute_async_v3", push_context=True)
        assert not session.cuda.destroyed
    finally:
        release.set()
