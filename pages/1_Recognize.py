"""Recognize: draw or upload a number and read it back digit by digit."""
import streamlit as st

from mdr.app import recognize_view

st.set_page_config(page_title="Recognize · Multi-Digit Recognizer", page_icon=":material/draw:",
                   layout="wide")
st.title("Recognize a number")
recognize_view.recognize_panel()
