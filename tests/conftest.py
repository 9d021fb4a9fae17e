"""Fixtures every test gets."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_the_root_logger() -> Iterator[None]:
    """Undo whatever a test's ``main()`` did to the root logger (``logging.basicConfig``).

    A handler left bound to a stream that pytest has since closed prints "--- Logging error ---"
    with a traceback for every later log line, in whichever test happens to log.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
