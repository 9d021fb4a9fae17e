"""The readers' Streamlit app."""
