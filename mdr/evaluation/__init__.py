"""How well a model or the whole recognizer reads: MNIST digits and composed numbers."""
