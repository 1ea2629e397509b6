"""C++/CUDA sources compiled inside the images (shipped as package data)."""
