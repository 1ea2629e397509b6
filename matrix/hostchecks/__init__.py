"""Tier-0 checks that run on the host (phase 0): ONNX models, Q/DQ quantization, the API of every release.

Each module exposes `run(ctx: CheckContext) -> Outcome`, like matrix/suite/checks, and runs isolated
in its own process. Unlike the suite, these may use host packages (onnx, onnxruntime, the stand-in).
"""
