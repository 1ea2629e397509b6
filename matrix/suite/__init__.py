"""Code that runs inside the release images (and locally with `--local`): Python 3.8 and later.

Nothing here may import host-only packages (docker, jinja2, rich, onnx, onnxruntime) at module
level: the images carry TensorRT, numpy and pytest, and little else.
"""
