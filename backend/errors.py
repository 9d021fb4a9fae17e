"""The backend's own errors, and the one place where any error becomes an HTTP answer.

Routes and the functions under them raise typed errors (these, and those of
:mod:`readcrumbs.errors`); :func:`install_error_handlers` maps each class to a status and a JSON
``{"detail": ...}`` body. Nothing else in the backend builds an error response, and no answer
carries a stack trace: unexpected exceptions are logged with theirs and answered with a generic
500.

================================  ======  =============================================
error                             status  when
================================  ======  =============================================
NoFavourites                      400     ``/predict`` with an empty ``items`` list
NothingResolved (UnknownBook)     400     no item matched a book; names them, suggests
UnknownGenre                      400     ``/predict`` names a genre no book carries
UnknownBook                       400     feedback about a book the catalogue lacks
NotShown                          400     feedback about a book its request did not show
WrongReader                       403     feedback from another userid than the request's
BookNotFound (UnknownBook)        404     ``GET /books/{book_id}`` of an unknown id
UnknownRequest                    404     feedback naming a request_id never served
NoPredictionLogged                404     ``/random`` before any prediction was stored
ChecksumMismatch, RegistryError   409     a reload the registry refused (old model stays)
ModelNotReady                     503     no model loaded yet
StoreError                        503     the event store or registry is unreachable
EventLogUnavailable               503     memory, spool and store all full or failing;
                                          ``Retry-After`` says when to come back
RequestValidationError            422     the body or a parameter breaks the schema
anything else                     500     a bug; logged with its traceback
================================  ======  =============================================

A 422 names where and why (``loc``, ``msg``, ``type``) but never echoes the refused value: it may
be a secret sent by mistake, text that cannot be encoded (a lone surrogate), or a structure
nested a thousand deep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from readcrumbs.errors import (
    ModelNotReady,
    ReadCrumbsError,
    RegistryError,
    StoreError,
    UnknownBook,
    UnknownGenre,
)

log = logging.getLogger(__name__)

EMPTY_ITEMS_DETAIL = "Must enter at least one favorite book."
INTERNAL_ERROR_DETAIL = "Internal server error; the server log has the details."


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


class NoFavourites(ReadCrumbsError):
    """A prediction was asked for without a single favourite book."""

    def __init__(self) -> None:
        super().__init__(EMPTY_ITEMS_DETAIL)


class NothingResolved(UnknownBook):
    """None of a request's items matched a book; carries them and close titles to suggest."""

    def __init__(self, unknown: list[str | int], suggestions: list[str]) -> None:
        shown = ", ".join(repr(item) for item in unknown[:10]) + (" …" if len(unknown) > 10 else "")
        hint = f" Did you mean: {'; '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"None of the books could be found: {shown}.{hint}")
        self.unknown = unknown
        self.suggestions = suggestions


class BookNotFound(UnknownBook):
    """A book_id, named in a URL, that the catalogue lacks."""


class UnknownRequest(ReadCrumbsError):
    """Feedback names a request_id that was never served."""


class NotShown(ReadCrumbsError):
    """Feedback about a book that its request (or the prototype payload's list) did not show."""


class WrongReader(ReadCrumbsError):
    """Feedback naming a request_id that was served to another userid."""


class NoPredictionLogged(ReadCrumbsError):
    """The event store holds no prediction yet."""


class EventLogUnavailable(ReadCrumbsError):
    """A record cannot be logged: the store, the spool and memory all refuse it (come back later)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "The request cannot be logged now (event store and local spool unavailable, memory full); "
            f"retry in {retry_after_s} s."
        )
        self.retry_after_s = retry_after_s


def _detail(status: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _no_favourites(_: Request, exc: Exception) -> JSONResponse:
    return _detail(400, EMPTY_ITEMS_DETAIL)


async def _nothing_resolved(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NothingResolved)
    return _detail(400, {"message": str(exc), "unknown": exc.unknown, "suggestions": exc.suggestions})


async def _unknown_genre(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownGenre)
    return _detail(400, {"message": str(exc), "unknown": exc.unknown, "suggestions": exc.close})


def _answer(status: int) -> Handler:
    async def handler(_: Request, exc: Exception) -> JSONResponse:
        return _detail(status, str(exc))

    return handler


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _detail(503, str(exc) if isinstance(exc, ModelNotReady) else "A storage backend is unavailable.")


async def _cannot_log(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EventLogUnavailable)
    log.warning("%s %s refused: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after_s)}
    )


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _detail(422, [_public_error(error) for error in exc.errors()])


def _public_error(error: Any) -> dict[str, object]:
    """One validation error without its ``input`` and ``ctx``, as plain, encodable text."""
    loc = [part if isinstance(part, int) else _printable(str(part)) for part in error.get("loc", ())]
    return {"type": str(error.get("type", "")), "loc": loc, "msg": _printable(str(error.get("msg", "")))}


def _printable(text: str) -> str:
    # A lone surrogate cannot be written as UTF-8; the answer must still go out.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _detail(500, INTERNAL_ERROR_DETAIL)


def install_error_handlers(app: FastAPI) -> None:
    """Register every mapping of the module docstring's table on ``app``."""
    # Starlette picks the handler of the most specific class in the exception's MRO.
    app.add_exception_handler(NoFavourites, _no_favourites)
    app.add_exception_handler(NothingResolved, _nothing_resolved)
    app.add_exception_handler(UnknownGenre, _unknown_genre)
    app.add_exception_handler(BookNotFound, _answer(404))
    app.add_exception_handler(UnknownBook, _answer(400))
    app.add_exception_handler(UnknownRequest, _answer(404))
    app.add_exception_handler(NotShown, _answer(400))
    app.add_exception_handler(WrongReader, _answer(403))
    app.add_exception_handler(NoPredictionLogged, _answer(404))
    app.add_exception_handler(RegistryError, _answer(409))
    app.add_exception_handler(ModelNotReady, _unavailable)
    app.add_exception_handler(StoreError, _unavailable)
    app.add_exception_handler(EventLogUnavailable, _cannot_log)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ReadCrumbsError, _internal)
    app.add_exception_handler(Exception, _internal)
