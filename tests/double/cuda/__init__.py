"""The CUDA double (tests only): `cuda.bindings.runtime` shaped, backed by host memory. Not CUDA."""
