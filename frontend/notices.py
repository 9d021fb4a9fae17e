"""Polite messages for when the backend cannot help, and Markdown escaping for shown text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from frontend.errors import ServiceError

# Characters that Streamlit's Markdown (labels, st.error, st.markdown) reads as formatting inside a
# line: emphasis, code, links, HTML, headings, strikethrough, LaTeX, tables.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#~$|])")


def escape_markdown(text: str) -> str:
    """``text`` shown literally inside Streamlit Markdown (titles with ``*``, ``_``, ``$``...)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def show_unavailable(
    error: ServiceError,
    *,
    retry_key: str,
    on_retry: Callable[..., Any] | None = None,
    args: tuple[Any, ...] = (),
) -> None:
    """Say the backend is down or slow, why, and offer a Retry button (never a traceback)."""
    st.error(
        "**ReadCrumbs isn't answering right now.** Your picks are kept: try again in a moment.\n\n"
        f"{escape_markdown(str(error))}",
        icon="📡",
    )
    st.button("↻ Retry", key=retry_key, on_click=on_retry, args=args)
