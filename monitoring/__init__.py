"""The operators' Streamlit dashboard."""
