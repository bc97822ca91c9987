"""Training the digit network: nets, augmentation, the training loop, ONNX export and int8."""
