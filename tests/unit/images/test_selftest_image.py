"""A self-test image gets the double's packages; a real run's image and the committed Dockerfiles do not."""

from __future__ import annotations

from matrix import catalogue
from matrix.images import build, dockerfile
from matrix.run import selftest


def test_self_test_images_install_the_doubles_packages_and_real_ones_do_not() -> None:
    cat = catalogue.load()
    release = cat.get("trt86")
    pip = selftest.load().image_pip
    assert any(p.startswith("onnx>=") for p in pip) and any(p.startswith("onnxruntime") for p in pip)
    real = build.plan(release, cat, build.BuildOptions())
    assert real.dockerfile == dockerfile.render(release, cat)
    assert "onnxruntime" not in real.dockerfile
    test = build.plan(release, cat, build.BuildOptions(skip_tensorrt=True, extra_pip=pip))
    assert test.dockerfile.startswith(real.dockerfile)
    tail = test.dockerfile[len(real.dockerfile) :]
    assert "USER root\nRUN python3 -m pip install " in tail and tail.rstrip().endswith(f"USER {dockerfile.USER}")
    assert all(f'"{p}"' in tail for p in pip)
    assert test.content_tag != real.content_tag


def test_self_test_images_get_make_for_the_plugin_makefile() -> None:
    cat = catalogue.load()
    release = cat.get("trt86")
    double = selftest.load()
    assert double.image_apt == ("make",)
    test = build.plan(release, cat, build.BuildOptions(extra_pip=double.image_pip, extra_apt=double.image_apt))
    tail = test.dockerfile[len(dockerfile.render(release, cat)) :]
    assert "apt-get install -y --no-install-recommends make;" in tail
    assert tail.index("apt-get install") < tail.index("pip install")
