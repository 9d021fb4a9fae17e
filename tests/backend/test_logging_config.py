"""Structured logs: one JSON object per line, extras and exceptions included."""

from __future__ import annotations

import json
import logging
import sys

from backend.logging_config import JsonFormatter, configure_logging


def format_record(**extra: object) -> dict[str, object]:
    record = logging.makeLogRecord(
        {"name": "backend.test", "levelname": "WARNING", "msg": "hello %s", "args": ("you",)}
    )
    record.__dict__.update(extra)
    return dict(json.loads(JsonFormatter().format(record)))


def test_fields_and_extras():
    entry = format_record(route="/predict", status=200, color_message="\x1b[1mhello\x1b[0m")
    assert entry["message"] == "hello you"
    assert entry["level"] == "WARNING" and entry["logger"] == "backend.test"
    assert str(entry["ts"]).endswith("+00:00")
    assert (entry["route"], entry["status"]) == ("/predict", 200)
    assert "color_message" not in entry


def test_exceptions_are_logged_as_text():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.getLogger("x").makeRecord(
        "x", logging.ERROR, __file__, 1, "failed", (), exc_info=exc_info
    )
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]


def test_configure_logging_routes_uvicorn_through_one_json_handler(capsys):
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(logging.INFO)
        logging.getLogger("uvicorn.error").info("started", extra={"port": 8000})
        line = capsys.readouterr().err.strip().splitlines()[-1]
        entry = json.loads(line)
        assert (entry["logger"], entry["message"], entry["port"]) == ("uvicorn.error", "started", 8000)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
