"""cuda-python's `cuda.bindings` layout, so matrix/suite/cuda.py takes its cuda-python path."""
