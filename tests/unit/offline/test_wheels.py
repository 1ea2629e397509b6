"""Listing, downloading and unpacking bindings wheels: grouping, caching, and what failures say.

pip is replaced by a fake here: nothing in this file touches the network.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from matrix.errors import UserError
from matrix.offline import wheels

LISTING = {
    "tensorrt-bindings": "tensorrt-bindings (8.6.1)\nAvailable versions: 8.6.1\n",
    "tensorrt-cu12-bindings": "tensorrt-cu12-bindings (11.0.0.114)\n"
    "Available versions: 11.0.0.114, 10.14.1.48.post1, 10.6.0.post1, 10.6.0, 10.0.1, 9.9.9, 10.1.0rc1\n",
}


NOTHING = "ERROR: No matching distribution found for {}"


class FakePip:
    """`pip index versions` answers LISTING (or nothing for `missing` packages); `pip download` fails."""

    def __init__(self, fail: str = "", missing: tuple[str, ...] = ()) -> None:
        self.calls: list[list[str]] = []
        self.fail, self.missing = fail, missing

    def __call__(self, args: list[str], what: str) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if self.fail:
            return subprocess.CompletedProcess(args, 1, "", self.fail)
        if args[0] == "index":
            package = args[-1]
            if package in self.missing:
                return subprocess.CompletedProcess(args, 1, "", NOTHING.format(package))
            return subprocess.CompletedProcess(args, 0, LISTING[package], "")
        return subprocess.CompletedProcess(args, 1, "", NOTHING.format(args[-1]))


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRT_MATRIX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_cache_lives_where_trt_matrix_cache_says(cache: Path) -> None:
    assert wheels.cache_dir() == cache and cache.is_dir()


def test_index_folds_post_releases_and_keeps_the_configured_majors(monkeypatch: pytest.MonkeyPatch) -> None:
    pip = FakePip()
    monkeypatch.setattr(wheels, "_pip", pip)
    releases = wheels.index()
    assert [r.version for r in releases] == ["8.6.1", "10.0.1", "10.6.0", "10.14.1.48.post1", "11.0.0.114"]
    assert releases[2].candidates == ("10.6.0", "10.6.0.post1")
    assert {r.package for r in releases[1:]} == {"tensorrt-cu12-bindings"}
    calls = len(pip.calls)
    wheels.index()
    assert len(pip.calls) == calls, "the version list is cached"


def test_a_stale_list_is_used_when_the_index_does_not_answer(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    monkeypatch.setattr(wheels, "_pip", FakePip())
    wheels.index()
    for path in (cache / "index").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["fetched"] = time.time() - 10 * wheels.INDEX_TTL_S
        path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(wheels, "_pip", FakePip(fail="ERROR: ... NewConnectionError(...)"))
    said: list[str] = []
    assert next(r.version for r in wheels.index(progress=said.append)) == "8.6.1"
    assert any("using the cached list" in line for line in said)


def test_no_index_and_no_cache_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "_pip", FakePip(fail="WARNING: Retrying ... ProxyError('Cannot connect to proxy.')"))
    with pytest.raises(UserError, match=r"cannot list tensorrt-bindings on the package index .*check the network"):
        wheels.index()


def test_a_network_failure_names_the_release_and_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "_pip", FakePip(fail="ERROR: Could not fetch URL https://pypi.org/simple/x/"))
    with pytest.raises(UserError) as caught:
        wheels.download("tensorrt-cu12-bindings", "10.3.0")
    message = str(caught.value)
    assert message.startswith("release 10.3.0: cannot download tensorrt-cu12-bindings==10.3.0")
    assert "check the network" in message and "--releases" in message


def test_a_package_without_wheels_for_this_python_is_no_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    # pip index versions lists only what this interpreter can install: 8.6.1 stops at cp311.
    monkeypatch.setattr(wheels, "_pip", FakePip(missing=("tensorrt-bindings",)))
    assert next(r.version for r in wheels.index()) == "10.0.1"
    with pytest.raises(wheels.NoWheel, match=r"8\.6\.1: the index has no tensorrt-bindings wheel for this Python"):
        wheels.find("8.6.1")
    assert wheels.no_wheel_reason("10.3.0") is None


def test_an_index_that_lists_nothing_at_all_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "_pip", FakePip(missing=("tensorrt-bindings", "tensorrt-cu12-bindings")))
    with pytest.raises(UserError, match="lists none of tensorrt-bindings, tensorrt-cu12-bindings for this Python"):
        wheels.index()


def test_a_listed_release_that_will_not_download_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "_pip", FakePip())
    release = wheels.Release(version="8.6.1", package="tensorrt-bindings", candidates=("8.6.1",))
    with pytest.raises(UserError, match=r"release 8\.6\.1: cannot download tensorrt-bindings==8\.6\.1"):
        wheels.unpacked(release)


def test_find_takes_the_newest_match_of_a_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "_pip", FakePip())
    assert wheels.find("10").version == "10.14.1.48.post1"
    assert wheels.find("10.6.0.post1").version == "10.6.0"
    assert wheels.find("11.0.0.114").version == "11.0.0.114"
    with pytest.raises(UserError, match=r"no TensorRT bindings release '8\.5'"):
        wheels.find("8.5")


def test_only_wheels_this_interpreter_can_import_are_taken(cache: Path) -> None:
    tag = next(iter(sys_tags()))
    folder = cache / "wheels"
    folder.mkdir(parents=True)
    good = folder / f"tensorrt_cu12_bindings-10.8.0.43-{tag.interpreter}-{tag.abi}-{tag.platform}.whl"
    good.write_bytes(b"")
    (folder / "tensorrt_cu12_bindings-10.9.0.34-cp27-none-win32.whl").write_bytes(b"")
    assert wheels.cached_wheel("tensorrt-cu12-bindings", "10.8.0.43") == good
    assert wheels.cached_wheel("tensorrt-cu12-bindings", "10.9.0.34") is None


def test_a_broken_bindings_file_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bindings.toml"
    bad.write_text("[[package]]\nname = 1\n", encoding="utf-8")
    with pytest.raises(UserError, match="not a valid bindings file"):
        wheels.packages(bad)


def test_an_interpreter_without_pip_is_told_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pip(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, "", "/usr/bin/python3: No module named pip\n")

    monkeypatch.setattr(subprocess, "run", no_pip)
    with pytest.raises(UserError, match="has no pip; install it"):
        wheels.index(refresh=True)


def test_pip_is_run_again_while_the_network_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name-resolution outage can outlast pip's own retries: the call is repeated, then the last result."""
    answers = [
        subprocess.CompletedProcess([], 1, "", "ERROR: ... Temporary failure in name resolution"),
        subprocess.CompletedProcess([], 0, "tensorrt-bindings (8.6.1)", ""),
    ]
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return answers.pop(0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(wheels, "NETWORK_PAUSE_S", 0.0)
    assert wheels._pip(["index", "versions", "x"], "listing x").returncode == 0
    assert len(calls) == 2
    not_network = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found for x")
    answers[:] = [not_network]
    assert wheels._pip(["download", "x"], "downloading x").returncode == 1  # not the network: no second try
    assert len(calls) == 3
