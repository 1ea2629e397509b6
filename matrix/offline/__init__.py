"""What needs no GPU and no Docker: the Python API of every release, and the machine's TensorRT installations.

Owns: `wheels` (each release's bindings wheel from the package index, bindings.toml), `standin` (the
stand-in libnvinfer that lets real bindings import), `introspect_bindings` (the script run in a
throwaway subprocess per release), `api_surface` (the API table), `doctor` (the TensorRT installations
on this machine and which plans they load).
May import: the root (catalogue, errors), `matrix.plans` (plan verdicts) and `matrix.suite` (planfile,
standin_probe). Must not import: commands, report, images, run. Never imports `tensorrt` into the host
process.
"""
