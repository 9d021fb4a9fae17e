"""Fixtures every test gets."""

from __future__ import annotations

import ast
import functools
import logging
import threading
from collections.abc import Iterator

import pytest

# CPython 3.11 keeps one AST recursion counter per interpreter, not per thread
# (python/cpython#106905), so two threads in ast.parse at once can fail with "SystemError: AST
# constructor recursion depth mismatch". Tests run servers, event writers and Streamlit scripts in
# threads, and 3.11's traceback module parses a line of source for every frame it formats (to
# place its ^^^ markers), as do pytest's reports and hypothesis: one such race crashed a whole CI
# run. Here ast.parse takes turns. (In the services the same race could at worst spoil one
# logged traceback, which logging reports and survives; the apps build no ASTs, magic is off.)
_ast_parse_turn = threading.RLock()
_ast_parse = ast.parse


@functools.wraps(_ast_parse)
def _parse_in_turn(*args, **kwargs):  # type: ignore[no-untyped-def]
    with _ast_parse_turn:
        return _ast_parse(*args, **kwargs)


ast.parse = _parse_in_turn


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
