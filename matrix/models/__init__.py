"""RetinaFace, SCRFD and YOLOv5: registry, builders (ONNX and TensorRT network definition), weights,
pre/post-processing and references.

Contract: importing `matrix.models` or any of its modules needs only the standard library and numpy
(they run inside the oldest images, Python 3.8); onnx, onnxruntime and Pillow are imported inside the
host-only functions that use them. `matrix.models.registry` is the index other code starts from.
"""
