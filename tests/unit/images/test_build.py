"""Build inputs are byte-stable, build args follow the options, and the build stream is read right."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from matrix import catalogue
from matrix.errors import UserError
from matrix.images import build as images
from matrix.images import dockerfile
from matrix.images.display import Display

CA = Path("/etc/ssl/certs/ca-certificates.crt")


def test_the_context_is_byte_stable_and_holds_only_the_dockerfile_and_the_ca_bundle(tmp_path: Path) -> None:
    cat = catalogue.load()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    options = images.BuildOptions(ca_bundle=bundle)
    first = images.plan(cat.get("trt86"), cat, options)
    bundle.touch()  # a new mtime must not change the context
    second = images.plan(cat.get("trt86"), cat, options)
    assert first.context == second.context and first.content_tag == second.content_tag
    with tarfile.open(fileobj=io.BytesIO(first.context)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["Dockerfile", dockerfile.CA_CONTEXT_NAME]
        assert {(m.mtime, m.mode, m.uid, m.gid) for m in members} == {(0, 0o644, 0, 0)}
        dockerfile_member = tar.extractfile("Dockerfile")
        assert dockerfile_member is not None
        assert dockerfile_member.read().decode() == dockerfile.render(cat.get("trt86"), cat)


def test_without_a_ca_bundle_the_context_carries_an_empty_file() -> None:
    cat = catalogue.load()
    plan = images.plan(cat.get("trt86"), cat, images.BuildOptions())
    with tarfile.open(fileobj=io.BytesIO(plan.context)) as tar:
        assert tar.getmember(dockerfile.CA_CONTEXT_NAME).size == 0
    assert plan.ca_bundle_sha256 is None


def test_build_args_follow_the_options() -> None:
    cat = catalogue.load()
    plain = images.plan(cat.get("trt11"), cat, images.BuildOptions())
    assert dict(plain.buildargs) == {"BASE_IMAGE": cat.get("trt11").base_ref, "SKIP_TENSORRT": "0"}
    assert not plain.base_overridden and not plain.skip_tensorrt
    options = images.BuildOptions(
        base_image="trt-matrix/test-base:bookworm",
        index_url="https://user:secret@mirror.example/simple",
        extra_index_url="https://extra.example/simple",
        skip_tensorrt=True,
    )
    custom = images.plan(cat.get("trt11"), cat, options)
    assert dict(custom.buildargs) == {
        "BASE_IMAGE": "trt-matrix/test-base:bookworm",
        "PIP_INDEX_URL": "https://user:secret@mirror.example/simple",
        "PIP_EXTRA_INDEX_URL": "https://extra.example/simple",
        "SKIP_TENSORRT": "1",
    }
    assert custom.base_overridden and custom.skip_tensorrt
    assert custom.content_tag != plain.content_tag
    record = custom.record(options)
    assert record["index_url"] == "https://***@mirror.example/simple"  # no credentials in records
    assert record["base_image"] == "trt-matrix/test-base:bookworm"
    assert record["catalogue_base"] == cat.get("trt11").base_ref


def test_skip_tensorrt_does_not_apply_to_preinstalled_releases() -> None:
    cat = catalogue.load()
    plan = images.plan(cat.get("trt86"), cat, images.BuildOptions(skip_tensorrt=True))
    assert "SKIP_TENSORRT" not in dict(plan.buildargs) and not plan.skip_tensorrt


def test_a_digest_pin_reaches_the_from_line(tmp_path: Path) -> None:
    path = tmp_path / "versions.toml"
    digest = "sha256:" + "a" * 64
    text = catalogue.DEFAULT_PATH.read_text(encoding="utf-8")
    path.write_text(text.replace('base_digest = ""', f'base_digest = "{digest}"', 1), encoding="utf-8")
    cat = catalogue.load(path)
    plan = images.plan(cat.get("trt84"), cat, images.BuildOptions())
    assert dict(plan.buildargs)["BASE_IMAGE"] == f"nvcr.io/nvidia/tensorrt:22.08-py3@{digest}"
    assert f"ARG BASE_IMAGE=nvcr.io/nvidia/tensorrt:22.08-py3@{digest}\n" in plan.dockerfile
    overridden = images.plan(cat.get("trt84"), cat, images.BuildOptions(base_image="mirror/trt:22.08"))
    assert dict(overridden.buildargs)["BASE_IMAGE"] == "mirror/trt:22.08" and overridden.base_overridden


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            images.BuildOptions(ca_bundle=Path("/nonexistent/ca.pem")),
            r"--ca-bundle /nonexistent/ca.pem: no such file",
        ),
        (images.BuildOptions(ca_bundle=Path("/etc")), r"--ca-bundle /etc: is a directory"),
        (images.BuildOptions(index_url="mirror.example"), r"--index-url 'mirror.example' is not a URL"),
    ],
)
def test_bad_build_options_are_user_errors(options: images.BuildOptions, message: str) -> None:
    cat = catalogue.load()
    with pytest.raises(UserError, match=message):
        images.plan(cat.get("trt86"), cat, options)


def test_a_file_without_certificates_is_not_a_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(UserError, match="no PEM certificate"):
        images.read_ca_bundle(bundle)


class Recorder(Display):
    def __init__(self) -> None:
        super().__init__(out=io.StringIO(), err=io.StringIO())
        self.steps: list[tuple[int, str]] = []
        self.lines: list[str] = []

    def step(self, release_id: str, number: int, total: int, instruction: str, state: str) -> None:
        self.steps.append((number, state))

    def output(self, release_id: str, line: str) -> None:
        self.lines.append(line)


def _feed(chunks: list[dict[str, object]]) -> tuple[images._Stream, Recorder]:
    display = Recorder()
    stream = images._Stream("trt86", display)
    for chunk in chunks:
        stream.feed(chunk)
    stream.finish()
    return stream, display


# The shape of the classic builder's JSON stream (as the Docker 20.10 daemon sends it).
CACHED: list[dict[str, object]] = [
    {"stream": "Step 1/4 : ARG BASE_IMAGE=x"},
    {"stream": "\n"},
    {"stream": "Step 2/4 : FROM ${BASE_IMAGE}"},
    {"stream": "\n"},
    {"stream": " ---> f0f4baa9a7ac\n"},
    {"stream": "Step 3/4 : ENV A=1"},
    {"stream": "\n"},
    {"stream": " ---> Using cache\n"},
    {"stream": " ---> ff0734f5e078\n"},
    {"stream": "Step 4/4 : RUN echo hi"},
    {"stream": "\n"},
    {"stream": " ---> Running in 06447d7d4448\n"},
    {"stream": "hi\n\x1b[91mwarn\x1b[0m\n"},
    {"stream": "Removing intermediate container 06447d7d4448\n"},
    {"stream": " ---> 104c0ee071fc\n"},
    {"aux": {"ID": "sha256:104c0ee071fc"}},
    {"stream": "Successfully built 104c0ee071fc\n"},
]


def test_the_stream_yields_steps_cache_hits_output_and_the_image_id() -> None:
    stream, display = _feed(CACHED)
    assert stream.image_id == "sha256:104c0ee071fc" and not stream.error
    assert [(s.number, s.cached, s.after_from) for s in stream.steps] == [
        (1, False, False),
        (2, False, False),
        (3, True, True),
        (4, False, True),
    ]
    assert display.steps == [(1, "before FROM"), (2, "base"), (3, "cached"), (4, "running")]
    assert display.lines == ["hi", "warn"]  # colour codes stripped


def test_an_error_keeps_the_failing_step_and_its_output_tail() -> None:
    chunks: list[dict[str, object]] = [
        *CACHED[:12],
        {"stream": "E: Unable to locate package nope\n"},
        {"error": "The command '/bin/sh -c apt-get install nope' returned a non-zero code: 100"},
    ]
    stream, _ = _feed(chunks)
    assert stream.error.endswith("returned a non-zero code: 100")
    assert stream.where == "step 4/4 (RUN echo hi)"
    assert list(stream.tail) == ["E: Unable to locate package nope"]


def test_a_failure_message_names_the_release_and_the_step() -> None:
    failure = images.BuildFailure("trt11", "step 7/19 (RUN apt-get ...)", "returned a non-zero code: 100")
    assert str(failure) == "trt11: image build failed at step 7/19 (RUN apt-get ...): returned a non-zero code: 100"


def test_build_result_counts_only_steps_after_from() -> None:
    stream, _ = _feed(CACHED)
    result = images.BuildResult(release_id="trt86", image_id="x", tags=(), seconds=1.0, steps=tuple(stream.steps))
    assert len(result.cacheable_steps) == 2 and result.cached_steps == 1 and not result.fully_cached


def test_redact_url() -> None:
    assert images.redact_url("https://u:p@host:8443/simple") == "https://***@host:8443/simple"
    assert images.redact_url("https://host/simple") == "https://host/simple"
    assert images.redact_url(None) is None


@pytest.mark.parametrize(
    ("tail", "hint"),
    [
        (
            ["WARNING: Retrying ... SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] ...'))"],
            "--ca-bundle FILE",
        ),
        (
            ["ERROR: Could not find a version that satisfies the requirement pytest<8.4,>=7.4 (from versions: none)"],
            "check --index-url",
        ),
        (["some other failure"], None),
    ],
)
def test_a_failed_pip_step_says_what_to_do(tail: list[str], hint: str | None) -> None:
    plan = images.plan(catalogue.load().get("trt86"), catalogue.load(), images.BuildOptions())
    message = images._explain_error("The command returned a non-zero code: 1", plan, False, tail)
    assert message.startswith("The command returned a non-zero code: 1")
    if hint is None:
        assert message == "The command returned a non-zero code: 1"
    else:
        assert hint in message
