"""The runner: phases, containers, GPUs, results files, progress, and the CI/Kubernetes job matrices.

Owns: `runner` (phase 0 on the host, phases 1 and 2 in one container per release, resume, shards),
`containers` (least-privilege containers, crash/timeout/OOM handling, cleanup), `gpus` (one GPU per
container), `results` (reading and appending results JSONL, merging), `progress` (the live table or one
line per cell), `ci_matrix` (`plan --format github|k8s`).
May import: the root (catalogue, errors, repo, docker_env), `matrix.suite` (cells, schema, the plugin's
record mapping) and `matrix.models`. Must not import: commands, report, images, offline, hostchecks.
"""
