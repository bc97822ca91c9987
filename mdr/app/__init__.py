"""What the Streamlit pages show: shared widgets, the pages' views and background training runs."""
