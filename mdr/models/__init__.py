"""The model registry: trained models on disk, publishing a run, checked operations on models."""
