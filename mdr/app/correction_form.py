"""Under a result: say what was really written (one click on a likely other reading, or typed) or
that it was right, and keep it as training data.

A saved drawing is a correction for `python -m mdr corrections` and the
fine-tune on corrections; a store that cannot be opened is an error in words
and recognition goes on as before.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from mdr.corrections.store import CorrectionStore, CorrectionStoreError, png_bytes

ROW_BREAK = "/"
"""Typed between rows of a two-row number: "250/3"."""


def typed_number(text: str) -> str:
    return text.replace(ROW_BREAK, "\n")


def save(recognition, image: np.ndarray, number: str, strokes: list | None = None) -> None:
    try:
        saved = CorrectionStore().add_recognition(recognition, png_bytes(image), number, strokes=strokes)
    except ValueError as e:
        st.error(str(e), icon=":material/edit_off:")
        return
    except (CorrectionStoreError, OSError) as e:
        st.error(f"The correction could not be saved: {e}", icon=":material/database:")
        return
    st.success(f"Saved as correction #{saved}. When you have saved a few, teach a model your handwriting: "
               "**Train** page, *Fine-tune on your corrections*.", icon=":material/bookmark_added:")


def correction_form(recognition, image: np.ndarray | None, strokes: list | None = None) -> None:
    """The form under a result; nothing when there is no image to keep. ``strokes``: the
    canvas's strokes of a drawing, stored with it."""
    if image is None:
        return
    alternatives = recognition.alternatives(3)
    with st.form("correction_form", border=True, enter_to_submit=True):
        picked = None
        if alternatives:
            columns = st.columns([1.2, 1, 1, 1], vertical_alignment="center")  # fewer readings leave room
            columns[0].markdown("**Did you mean**")
            for place, (column, alternative) in enumerate(zip(columns[1:], alternatives)):
                shown = alternative.number.replace("\n", ROW_BREAK)
                if column.form_submit_button(shown, key=f"alternative_{place}", width="stretch",
                                             help=f"{alternative.describe()} Saves this number as a correction."):
                    picked = alternative.number
        typed_col, save_col, right_col = st.columns([4, 1, 1], vertical_alignment="bottom")
        typed = typed_col.text_input(
            "Not right? Type the number you wrote", key="correction_number",
            placeholder=recognition.number.replace("\n", ROW_BREAK),
            help=f"Digits only; '{ROW_BREAK}' between rows. Saved drawings teach a model your handwriting "
                 "(Train page: fine-tune on corrections).")
        wrong = save_col.form_submit_button("Save", icon=":material/save:", width="stretch")
        right = right_col.form_submit_button("It was right", icon=":material/thumb_up:", width="stretch")
    if picked is not None:
        save(recognition, image, picked, strokes)
    elif right:
        save(recognition, image, recognition.number, strokes)
    elif wrong:
        save(recognition, image, typed_number(typed), strokes)
