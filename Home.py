"""Home: what the app does and which model it uses."""
import streamlit as st

from mdr.app import model_card

st.set_page_config(page_title="Multi-Digit Recognizer", page_icon=":material/pin:", layout="centered")

st.title("Multi-Digit Recognizer")
st.markdown(
    "Write a whole number — one digit or a dozen, on one line or several — and the app "
    "reads it back digit by digit. Each digit is cut out of the picture, scaled to the "
    "28×28 format of the MNIST handwriting collection, and read by a small neural network."
)
st.markdown(
    "**How to use it**\n"
    "1. Open **Recognize** in the sidebar (or the link below).\n"
    "2. Draw a number on the black canvas with the mouse, or upload a photo or scan (PNG or JPEG).\n"
    "3. The number is read as you draw (or when you press **Recognize**, with **Read as I draw** "
    "off): you get the number, each digit as the model saw it, how sure the model is, and its "
    "second guesses where it is unsure.\n"
    "4. Misread? Type what you wrote under the result and press **Save**: **Corrections** keeps "
    "those drawings, and **Train** → *Fine-tune on your corrections* teaches a model your handwriting "
    "from them in about a minute."
)
st.page_link("pages/1_Recognize.py", label="Recognize a number", icon=":material/draw:")
st.page_link("pages/4_Corrections.py", label="Your corrections", icon=":material/edit_note:")
st.page_link("pages/3_Train.py", label="Fine-tune on your corrections", icon=":material/school:")

st.divider()
model_card.show_model_card()
