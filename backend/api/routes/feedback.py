"""Likes and dislikes of recommended books."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import MetricsDep, ServingDep, StoreDep, WriterDep
from backend.feedback import feedback_record, find_shown
from backend.schemas import FeedbackCreate, FeedbackPublic

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    response_model=FeedbackPublic,
    responses={
        400: {"description": "The book is not in the catalogue, or was not shown by the request."},
        403: {"description": "request_id was served to another userid."},
        404: {"description": "request_id names no served prediction."},
        503: {"description": "The feedback cannot be logged now (see Retry-After)."},
    },
)
async def create_feedback(
    body: FeedbackCreate, state: ServingDep, writer: WriterDep, store: StoreDep, metrics: MetricsDep
) -> FeedbackPublic:
    """Record a like (1, "like") or dislike (-1, "dislike") of a shown book; a later vote replaces one."""
    # async on purpose: only a store look-up (a request not pending here) leaves the event loop.
    shown = await find_shown(body.request_id, writer, store) if body.request_id is not None else None
    record = feedback_record(state, body, shown)
    await writer.submit_async(record)
    metrics.feedback.labels(value="like" if record.value > 0 else "dislike").inc()
    return FeedbackPublic(
        feedback_id=record.feedback_id,
        book_id=record.book_id,
        title=record.title,
        value=record.value,
        request_id=record.request_id,
        position=record.position,
    )
