"""The per-release images: Dockerfiles generated from the catalogue, builds, the probed bill of materials.

Owns: `dockerfile` (versions.toml → dockerfiles/<id>.Dockerfile, from templates/), `toxgen` (tox.ini),
`build` (image builds through the Docker SDK, content tags, the layer cache), `bom` (what an image really
carries, probed once per image id), `display` (live build rows or plain CI lines), `test_base` (the local
Debian base image made with debootstrap, for machines that cannot pull).
May import: the root (catalogue, errors, docker_env) and `matrix.suite.bom` (the probe script it runs in
images). Must not import: commands, run, report, offline, hostchecks.
"""
