/* Stand-in file of the trt-matrix TensorRT double, NOT NVIDIA's header: matrix/models/plugin.py only
   checks that NvInfer.h exists before it runs the Makefile, and the double's nvcc (tests/double/bin/nvcc)
   compiles nothing. */
