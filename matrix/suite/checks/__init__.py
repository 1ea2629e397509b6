"""One module per check; each exposes `run(ctx: CheckContext) -> Outcome` (see matrix/suite/outcome.py).

`TARGETS` maps a check name to the `module:function` the isolated worker runs.
"""

TARGETS = {
    "serialize": "matrix.suite.checks.serialize:run",
    "deserialize": "matrix.suite.checks.deserialize:run",
    "toolchain": "matrix.suite.checks.toolchain:run",
    "destroy-order": "matrix.suite.checks.destroy_order:run",
    "execute": "matrix.suite.checks.execute:run",
    "exchange": "matrix.suite.checks.exchange:run",
    "int8": "matrix.suite.checks.int8:run",
    "int8-cache": "matrix.suite.checks.int8_cache:run",
    # tier 0, on the host (phase 0): host packages allowed
    "api": "matrix.hostchecks.api:run",
    "model": "matrix.hostchecks.model:run",
    "qdq": "matrix.hostchecks.qdq:run",
}
