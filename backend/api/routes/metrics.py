"""Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from backend.api.deps import MetricsDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def get_metrics(metrics: MetricsDep) -> Response:
    """Request counts and latencies per route, predictions per model version, event queue and spool."""
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
