"""Data sets: MNIST IDX files and numbers composed from digits as canvas strokes."""
