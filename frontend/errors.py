"""Typed errors of the readers' app.

The app reaches the backend over HTTP only and shares no code with it, so it names its own
failures; the page answers each politely and never shows a traceback::

    FrontendError
    ├── ConfigError            a tool the app needs (Chromium for screenshots) is missing or failed
    └── ServiceError           the backend, called over HTTP, gave no usable answer
        ├── ServiceUnavailable no usable answer: refused, timed out, 5xx, not JSON
        └── RequestRejected    a 4xx answer; carries the status and the server's detail
"""

from __future__ import annotations


class FrontendError(Exception):
    """Base of every error the readers' app raises on purpose."""


class ConfigError(FrontendError):
    """Something the app or one of its tools needs is missing or cannot work."""


class ServiceError(FrontendError):
    """The backend, called over HTTP, did not give a usable answer."""


class ServiceUnavailable(ServiceError):
    """No usable answer: the connection was refused or timed out, a 5xx, or a body that is not JSON."""


class RequestRejected(ServiceError):
    """The backend refused the request with a 4xx answer.

    ``status`` is the HTTP status; ``detail`` the ``detail`` field of the JSON body as sent (a
    string, or an object such as ``{"message", "unknown", "suggestions"}``), else ``None``.
    """

    def __init__(self, message: str, *, status: int, detail: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
