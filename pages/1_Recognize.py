"""Recognize: draw or upload a number and read it back digit by digit."""
import streamlit as st

from mdr.recognition import imageio
from mdr.app import canvas_input, reading, result_view

st.set_page_config(page_title="Recognize · Multi-Digit Recognizer", page_icon=":material/draw:",
                   layout="wide")
st.title("Recognize a number")

draw_tab, upload_tab = st.tabs(["Draw", "Upload an image"])

with draw_tab:
    hint, brush_column = st.columns([3, 1], vertical_alignment="bottom")
    hint.markdown("Draw a number with the mouse, digits side by side. "
                  "A second row of digits is read as a second line.")
    brush = brush_column.slider("Brush width", min_value=6, max_value=40, value=18)
    canvas = canvas_input.drawing_canvas(brush)
    with st.container(horizontal=True):
        recognize = st.button("Recognize", type="primary", icon=":material/search:")
        st.button("Clear", icon=":material/ink_eraser:", on_click=canvas_input.clear_canvas)
        st.caption(canvas_input.canvas_status(canvas))
    if recognize:
        if canvas_input.canvas_is_empty(canvas):
            reading.clear_results()
            st.info(canvas_input.EMPTY_CANVAS_MESSAGE, icon=":material/draw:")
        else:
            reading.recognize_into_state(lambda: canvas.image_data, source="the drawing")

with upload_tab:
    upload = st.file_uploader("Upload an image (PNG or JPEG) of a handwritten number",
                              type=["png", "jpg", "jpeg"])
    if upload is not None and upload.file_id != st.session_state.get(reading.LAST_UPLOAD_ID):
        st.session_state[reading.LAST_UPLOAD_ID] = upload.file_id
        reading.recognize_into_state(lambda: imageio.decode_image(upload.getvalue()),
                                source=f"upload: {upload.name}")

result_view.show_last_result()
