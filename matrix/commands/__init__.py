"""One module per `trt-matrix` subcommand: argument parsing only; the work is imported lazily."""
