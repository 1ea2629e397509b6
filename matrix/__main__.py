"""`python -m matrix` is the `trt-matrix` command."""

from matrix.cli import main

raise SystemExit(main())
