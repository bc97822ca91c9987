"""Corrections: the drawings people said were misread (or right), kept to teach a model their hand."""
import streamlit as st

from mdr.app import corrections_view as cv

st.set_page_config(page_title="Corrections · Multi-Digit Recognizer", page_icon=":material/edit_note:",
                   layout="wide")
st.title("Corrections")
st.markdown("Drawings saved under a result on the Recognize page, with the number that was really "
            "written. Fine-tune a model on them from the Train page.")

store = cv.open_store()
if store is not None:
    corrections = cv.summary(store)
    st.header("How each model reads them", anchor=False)
    cv.model_scores(corrections)
    st.header("Export and import", anchor=False)
    cv.export_import(store)
    st.header("Gallery", anchor=False)
    cv.gallery(store, corrections)
