"""The compatibility suite: every test here is a family of matrix cells (matrix/suite/plugin.py,
registered by the repository's root conftest.py so that `pytest tests` and `pytest tests/compat` both
work, inside images too).

Runs unchanged in every release image (`trt-matrix run`), locally (`nox -s trt86 -- --local`), and
here with no GPU: then every GPU cell is reported as not run, with the reason, and the tier-0 cells
run. See `pytest tests/compat --help` under "trt-matrix cells" for the options.
"""
