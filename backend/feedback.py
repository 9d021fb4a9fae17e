"""Turning a like or dislike into a feedback record, after checking what it refers to.

The rules (DESIGN.md; README "Feedback rules"):

- With a ``request_id``, the prediction is looked up among those still pending in this process
  (queued, held or spooled; the spool is indexed at start-up) and then in the event store (twice,
  one flush interval apart, for what another worker process served). An unknown id is refused
  (404). The book must be one that prediction showed (400: an input book
  or any other is refused), the ``userid`` must be the prediction's (403), and the position is
  the book's rank in the record (0 = first): a wrong or missing one is corrected, and the answer
  carries the stored position.
- One vote per (request, book): the feedback_id is derived from the two, so an identical replay
  is idempotent and a later vote replaces the earlier one in every store.
- When neither this process nor the store can answer (the store is down), the feedback is
  accepted unverified rather than lost, and a warning is logged.
- The prototype's payload (no ``request_id``) is checked against its own ``recommendations``:
  the title must be one of them (400 otherwise).
"""

from __future__ import annotations

import logging
import uuid

import anyio
import anyio.to_thread

from backend.errors import NotShown, UnknownRequest, WrongReader
from backend.event_writer import EventWriter, Shown
from backend.schemas import FeedbackCreate
from backend.serving import ServingState
from readcrumbs.catalogue import Book
from readcrumbs.errors import StoreError, UnknownBook
from readcrumbs.events.base import EventStore
from readcrumbs.events.records import FeedbackRecord, new_id, utc_now_iso

log = logging.getLogger(__name__)

# Namespace of the vote ids: uuid5 of "<request_id>/<book_id>", one id per (request, book).
VOTE_NAMESPACE = uuid.UUID("6f1c1a0e-3b7a-4a53-9d0e-1f5b8b7f6a21")


def vote_id(request_id: str, book_id: int) -> str:
    """The feedback_id of every vote about ``book_id`` in request ``request_id``."""
    return uuid.uuid5(VOTE_NAMESPACE, f"{request_id}/{book_id}").hex


async def find_shown(request_id: str, writer: EventWriter, store: EventStore) -> Shown | None:
    """What request ``request_id`` showed; None when it cannot be known now (the store is down).

    Raises :class:`UnknownRequest` when neither this process nor the store knows the request.
    The store is asked in a worker thread: its read may block (SQLite busy, a network call).
    A prediction another worker process served may still sit in that process's queue: the store
    is asked once more after one flush interval before the id is called unknown.
    """
    shown = writer.pending.get(request_id)
    if shown is not None:
        return shown
    for attempt in range(2):
        try:
            record = await anyio.to_thread.run_sync(store.get_prediction, request_id)
        except StoreError as exc:
            log.warning(
                "cannot verify request_id %s (%s); accepting the feedback unverified", request_id, exc
            )
            return None
        if record is not None:
            return Shown(record.userid, tuple(record.prediction_ids), tuple(record.prediction))
        if attempt == 0:
            await anyio.sleep(writer.flush_s * 1.5)  # the other worker's writer flushes by then
    raise UnknownRequest(f"no prediction with request_id {request_id!r}")


def feedback_book(state: ServingState, feedback: FeedbackCreate, shown: Shown | None = None) -> Book:
    """The book the feedback is about: its book_id if given, else its title (a shown title first,
    then resolved like /predict's)."""
    if feedback.book_id is not None:
        return state.catalogue.book(feedback.book_id)
    assert feedback.title is not None  # FeedbackCreate requires one of the two
    if shown is not None and feedback.title in shown.titles:
        return state.catalogue.book(shown.book_ids[shown.titles.index(feedback.title)])
    match = state.catalogue.match(feedback.title)
    if match is None:
        raise UnknownBook(f"no book titled {feedback.title!r} in the catalogue")
    return match.book


def feedback_record(state: ServingState, feedback: FeedbackCreate, shown: Shown | None) -> FeedbackRecord:
    """The record of a valid feedback; ``shown`` is what its request showed (None: unverifiable).

    Raises :class:`UnknownBook`, :class:`NotShown` or :class:`WrongReader` (module docstring).
    """
    book = feedback_book(state, feedback, shown)
    feedback_id, position = new_id(), feedback.position
    if feedback.request_id is not None:
        feedback_id = vote_id(feedback.request_id, book.book_id)
        if shown is not None:
            if feedback.userid != shown.userid:
                raise WrongReader(f"request_id {feedback.request_id!r} was served to another reader")
            if book.book_id not in shown.book_ids:
                raise NotShown(f"book {book.book_id} was not shown by request_id {feedback.request_id!r}")
            position = shown.book_ids.index(book.book_id)
    elif feedback.recommendations is not None and not (
        book.title in feedback.recommendations or feedback.title in feedback.recommendations
    ):
        raise NotShown(f"{book.title!r} is not one of the payload's recommendations")
    return FeedbackRecord(
        feedback_id=feedback_id,
        ts=utc_now_iso(),
        userid=feedback.userid,
        request_id=feedback.request_id,
        book_id=book.book_id,
        title=book.title,
        position=position,
        value=feedback.value,
    )
