"""Train: retrain the model, watch it learn, see where it fails, compare variants, switch models."""
import streamlit as st

from mdr.app import finetune_view, jobs, registry_view, strip_view
from mdr.app.mnist_notice import mnist_notice
from mdr.models import registry
from mdr.paths import models_dir
from mdr.app import train_view as tv

st.set_page_config(page_title="Train · Multi-Digit Recognizer", page_icon=":material/model_training:",
                   layout="wide")
st.title("Train a model")
st.markdown("Train the network on MNIST in the background, watch it learn, see where it fails, and "
            "switch the app to it. The model in use keeps serving until you activate another one.")

snap = jobs.snapshot()
st.header("Training", anchor=False)
mnist_notice()
if snap is not None and snap.active:
    st.fragment(tv.live_run, run_every=tv.REFRESH_SECONDS)()
else:
    request = tv.training_form()
    if request is not None:
        tv.start_run(*request)
    if snap is not None:
        with st.container(border=True):
            tv.live_run()

st.header("Fine-tune on your corrections", anchor=False)
st.markdown("Teach a model your handwriting: a short run from a registered model's weights on the drawings "
            "you corrected on the Recognize page, mixed with MNIST so it forgets nothing else.")
finetune_view.finetune_section(tv.start_run)

st.header("Read touching digits (strip reader)", anchor=False)
st.markdown("Digits that touch are hard to cut apart. A strip reader reads such a part whole, as a string of "
            "digits, and the recognizer asks it about wide and doubtful parts. The new model keeps a registered "
            "model's digit classifier and adds a reader trained on numbers composed from pen and MNIST digits; "
            "pen numbers of writers it never saw are read before and after, so you can compare.")
strip_view.strip_section(tv.start_run)

st.header("Models", anchor=False)
st.caption(f"Stored in `{models_dir()}`. "
           "Activating checks that the model loads first; a broken model is refused and the active one stays.")
registry_view.registry_table()

names = registry.list_models()
if names:
    st.header("Results of a model", anchor=False)
    default = st.session_state.get(tv.SELECTED) or registry.active_model_name()
    chosen = st.selectbox("Model", names, index=names.index(default) if default in names else 0)
    tv.model_results(chosen)
