"""Registers the matrix plugin for every pytest run in this repository (tests/compat needs it; the
other tests are untouched by it: it only parametrizes tests that take a `cell`)."""

pytest_plugins = ["matrix.suite.plugin"]
