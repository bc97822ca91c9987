"""Benchmarks of the recognizer, the models and training: ``python -m bench``."""
