"""RetinaFace decode plugin sources: decode.h, decode.cu, plugin.cpp, Makefile (see ../../plugin.py)."""
