"""Turning a like or dislike into a feedback record, after checking what it refers to."""

from __future__ import annotations

import logging

from backend.errors import UnknownRequest
from backend.event_writer import EventWriter
from backend.schemas import FeedbackCreate
from backend.serving import ServingState
from readcrumbs.catalogue import Book
from readcrumbs.errors import StoreError, UnknownBook
from readcrumbs.events.base import EventStore
from readcrumbs.events.records import FeedbackRecord, new_id, utc_now_iso

log = logging.getLogger(__name__)


def feedback_book(state: ServingState, feedback: FeedbackCreate) -> Book:
    """The book the feedback is about: its book_id if given, else its title resolved like /predict's."""
    if feedback.book_id is not None:
        return state.catalogue.book(feedback.book_id)
    assert feedback.title is not None  # FeedbackCreate requires one of the two
    match = state.catalogue.match(feedback.title)
    if match is None:
        raise UnknownBook(f"no book titled {feedback.title!r} in the catalogue")
    return match.book


def check_request_id(request_id: str, writer: EventWriter, store: EventStore) -> None:
    """Raise :class:`UnknownRequest` unless ``request_id`` names a served prediction.

    Predictions this process served recently are known before they reach the store. When the
    store cannot be asked, the feedback is accepted rather than lost (and a warning logged).
    """
    if request_id in writer.pending:
        return
    try:
        found = store.get_prediction(request_id) is not None
    except StoreError as exc:
        log.warning("cannot verify request_id %s (%s); accepting the feedback", request_id, exc)
        return
    if not found:
        raise UnknownRequest(f"no prediction with request_id {request_id!r}")


def feedback_record(
    state: ServingState, feedback: FeedbackCreate, writer: EventWriter, store: EventStore
) -> FeedbackRecord:
    """The record of a valid feedback; :class:`UnknownBook` or :class:`UnknownRequest` otherwise."""
    book = feedback_book(state, feedback)
    if feedback.request_id is not None:
        check_request_id(feedback.request_id, writer, store)
    return FeedbackRecord(
        feedback_id=new_id(),
        ts=utc_now_iso(),
        userid=feedback.userid,
        request_id=feedback.request_id,
        book_id=book.book_id,
        title=book.title,
        position=feedback.position,
        value=feedback.value,
    )
