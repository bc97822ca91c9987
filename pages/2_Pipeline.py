"""Pipeline: every step of one recognition, and what the knobs change."""
import functools
import logging

import streamlit as st

from mdr.app import export_intermediates, pipeline_controls, pipeline_sections, reading
from mdr.app.pipeline_steps import STEPS, changed_knobs, config_from_knobs, last_step_reached
from mdr.errors import MdrError, ModelError, NothingToReadError
from mdr.recognition.config import DEFAULT_CONFIG

log = logging.getLogger(__name__)

st.set_page_config(page_title="Pipeline · Multi-Digit Recognizer", page_icon="🔬", layout="wide")
st.title(":material/account_tree: Pipeline: how the number was read")
st.markdown("Every step between the picture and the number, with what each step saw and decided. "
            "Turn the knobs in the sidebar to see what would change.")

with st.sidebar:
    st.header("Knobs")
    knobs = pipeline_controls.knob_widgets()
    st.button("Reset to defaults", icon=":material/restart_alt:", on_click=pipeline_controls.reset_knobs,
              width="stretch", key="pipeline_reset")
config = config_from_knobs(knobs, DEFAULT_CONFIG)
changed = changed_knobs(config, DEFAULT_CONFIG)
if changed:
    st.sidebar.caption("Changed: " + ", ".join(f"{name} {old} → {new}" for name, (old, new) in changed.items()))

try:
    image, source, expected = pipeline_controls.choose_image()
except MdrError as error:  # a corrupt or oversized upload: the same words as on Recognize
    reading.show_error(error)
    st.stop()
if image is None:
    st.stop()

recognition, error = None, None
try:
    recognition = reading.get_recognizer().recognize(image, config)
except NothingToReadError as e:
    recognition, error = e.recognition, e
except MdrError as e:
    reading.show_error(e)
    st.stop()
except Exception as e:  # never a traceback on the page
    log.exception("Unexpected failure while explaining %s", source)
    reading.show_error(ModelError(f"Something unexpected went wrong while reading the image "
                                  f"({type(e).__name__}: {e}). Try again, or try another image."))
    st.stop()

if error is not None:
    reading.show_error(error)
    if recognition is None:
        st.stop()
    st.caption("What the recognizer saw before it stopped:")

reached = last_step_reached(recognition, stopped=error is not None)
shown = pipeline_sections.Explained(image, recognition, config, expected)
for step in STEPS:
    pipeline_sections.show_step(step, shown, reached)

st.divider()
# Built only when the button is pressed: the original may be large.
archive = functools.partial(export_intermediates.export_zip, recognition, image, config,
                            error=str(error) if error else None, stopped=error is not None)
st.download_button("Download all intermediates (zip of PNGs + JSON)", data=archive,
                   file_name="mdr-pipeline.zip", mime="application/zip", icon=":material/folder_zip:",
                   on_click="ignore")
st.caption("Every picture on this page as a PNG, and recognition.json with the boxes, every decision "
           "and its reason, the probabilities and the time each stage took.")
