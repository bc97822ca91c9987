"""Corrections: drawings a person has told the true number of, kept as training data."""
from mdr.corrections.store import (Correction, CorrectionStore, CorrectionStoreError, DigitSample,
                                   corrections_home)

__all__ = ["Correction", "CorrectionStore", "CorrectionStoreError", "DigitSample", "corrections_home"]
