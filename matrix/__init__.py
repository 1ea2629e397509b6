"""trt-matrix: a Dockerized multi-version TensorRT test matrix.

The host side (this package minus `matrix.suite` and `matrix.models`) plans cells, builds images,
runs containers and renders reports; it never imports `tensorrt`. `matrix.suite` and
`matrix.models` run inside the images, on Python 3.8 and later.
"""

__version__ = "0.1.0"
