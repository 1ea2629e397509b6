"""What needs no GPU and no Docker: plan-file verdicts and the Python API of every release.

Owns: `plan_verdict` (who can load a plan, from plan_facts.toml), `wheels` (each release's bindings wheel
from the package index, bindings.toml), `standin` (the stand-in libnvinfer that lets real bindings
import), `introspect_bindings` (the script run in a throwaway subprocess per release), `api_surface`
(the API table).
May import: the root (catalogue, errors) and `matrix.suite` (planfile, standin_probe). Must not import:
commands, report, images, run. Never imports `tensorrt` into the host process.
"""
