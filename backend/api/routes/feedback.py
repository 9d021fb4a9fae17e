"""Likes and dislikes of recommended books."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import MetricsDep, ServingDep, StoreDep, WriterDep
from backend.feedback import feedback_record
from backend.schemas import FeedbackCreate, FeedbackPublic

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    response_model=FeedbackPublic,
    responses={
        400: {"description": "The book is not in the catalogue."},
        404: {"description": "request_id names no served prediction."},
    },
)
def create_feedback(
    body: FeedbackCreate, state: ServingDep, writer: WriterDep, store: StoreDep, metrics: MetricsDep
) -> FeedbackPublic:
    """Record a like (1, "like") or dislike (-1, "dislike") of a book, by book_id or title."""
    record = feedback_record(state, body, writer, store)
    writer.submit(record)
    metrics.feedback.labels(value="like" if record.value > 0 else "dislike").inc()
    return FeedbackPublic(
        feedback_id=record.feedback_id,
        book_id=record.book_id,
        title=record.title,
        value=record.value,
        request_id=record.request_id,
    )
