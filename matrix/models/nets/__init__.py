"""Model programs: each network written once against `ops.Ops`, built by numpy, ONNX and TensorRT."""
