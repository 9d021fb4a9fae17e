"""Serving a Streamlit app for a screenshot (frontend/headless.py)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from frontend.errors import ConfigError
from frontend.headless import serve_streamlit


def test_an_app_is_served_until_the_block_ends(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import streamlit as st\nst.write('hello')\n")
    with serve_streamlit(app, os.environ, timeout_s=60) as url:
        assert httpx.get(f"{url}/_stcore/health", timeout=5).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/_stcore/health", timeout=2)


def test_a_server_that_exits_is_a_config_error_with_its_stderr(tmp_path: Path) -> None:
    with (
        pytest.raises(ConfigError, match=r"(?s)exited before serving: .*File does not exist"),
        serve_streamlit(tmp_path / "missing.py", os.environ, timeout_s=60),
    ):
        pass  # pragma: no cover - never reached
