"""The Train page's word on MNIST: where training reads it, and a button to download it once."""
from __future__ import annotations

import streamlit as st

from mdr.data.download import missing_message
from mdr.data.mnist import FILES
from mdr.errors import DataError


def mnist_notice() -> None:
    """Nothing when MNIST is there; else a warning and a download button with a progress bar."""
    missing = missing_message()
    if missing is None:
        return
    with st.container(border=True):
        st.warning(missing, icon=":material/dataset:")
        if not st.button("Download MNIST (about 11 MB)", icon=":material/download:", key="download_mnist"):
            return
        from mdr.data.download import download_mnist

        bar = st.progress(0.0, text="Downloading MNIST...")
        totals: dict[str, float] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            totals[name] = done / total if total else 0.0
            bar.progress(min(1.0, sum(totals.values()) / len(FILES)), text=f"Downloading {name}...")

        try:
            result = download_mnist(progress=progress)
        except DataError as e:
            bar.empty()
            st.error(str(e), icon=":material/cloud_off:")
            return
        bar.empty()
        st.success(f"MNIST is in `{result.folder}`.", icon=":material/check_circle:")
