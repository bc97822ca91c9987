"""Reading a number from an image: decode, binarize, segment, normalize, classify.

Uses ONNX Runtime and OpenCV only (no torch), so the app and the CLI start fast.
"""
