"""Prometheus metrics of one app, kept in the app's own registry.

A per-app :class:`~prometheus_client.CollectorRegistry` (not the process-global one) lets tests
build many apps in one process and lets each app's ``/metrics`` show only its own numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds; /predict is expected around a millisecond, the tail up to a few seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Every metric the backend exposes on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "readcrumbs_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "readcrumbs_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "readcrumbs_predictions",
            "Predictions served, by model version.",
            ["model_version"],
            registry=self.registry,
        )
        self._prediction_series: dict[str, Any] = {}  # model_version → its labelled series
        self.unknown_items = Counter(
            "readcrumbs_prediction_unknown_items",
            "Items of /predict requests that matched no book.",
            registry=self.registry,
        )
        self.feedback = Counter(
            "readcrumbs_feedback",
            "Feedback received, by value (like, dislike).",
            ["value"],
            registry=self.registry,
        )
        self.event_queue_depth = Gauge(
            "readcrumbs_event_queue_depth",
            "Event records waiting in memory to be written.",
            registry=self.registry,
        )
        self.event_spool_records = Gauge(
            "readcrumbs_event_spool_records",
            "Event records waiting in the local spool file for the store to recover.",
            registry=self.registry,
        )
        self.events_written = Counter(
            "readcrumbs_events_written",
            "Event records written to the event store, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.event_store_failures = Counter(
            "readcrumbs_event_store_failures",
            "Failed batch writes to the event store.",
            registry=self.registry,
        )
        self.event_spool_failures = Counter(
            "readcrumbs_event_spool_failures",
            "Failed appends to the local spool (disk full, read-only); records are then held in memory.",
            registry=self.registry,
        )
        self.event_held_records = Gauge(
            "readcrumbs_event_held_records",
            "Event records held in memory because neither the store nor the spool took them.",
            registry=self.registry,
        )
        self.events_dropped = Counter(
            "readcrumbs_events_dropped",
            "Event records lost: the store failed, the spool could not be written, memory was full.",
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "readcrumbs_events_rejected",
            "Malformed event records the store refused; set aside in the spool's rejected file.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "readcrumbs_rate_limited",
            "Requests answered 429 because their client exceeded READCRUMBS_RATE_LIMIT_PER_MIN.",
            registry=self.registry,
        )
        self.model_info = Gauge(
            "readcrumbs_model_info",
            "The model being served (value 1).",
            ["name", "version", "model_type"],
            registry=self.registry,
        )
        self.model_reloads = Counter(
            "readcrumbs_model_reloads",
            "Attempts to load a model version, by outcome (loaded, unchanged, refused, failed).",
            ["outcome"],
            registry=self.registry,
        )

    def count_prediction(self, model_version: str) -> None:
        """One more prediction served by ``model_version``.

        The labelled series is looked up once per version: ``labels()`` costs microseconds a call.
        """
        series = self._prediction_series.get(model_version)
        if series is None:
            series = self.predictions.labels(model_version=model_version)
            self._prediction_series[model_version] = series
        series.inc()

    def watch_queue(self, depth: Callable[[], float], held: Callable[[], float]) -> None:
        """Read the event queue depth and the held records from these at every scrape."""
        self.event_queue_depth.set_function(depth)
        self.event_held_records.set_function(held)

    def serving(self, name: str, version: str, model_type: str) -> None:
        """Record the model now being served (and forget the previous one)."""
        self.model_info.clear()
        self.model_info.labels(name=name, version=version, model_type=model_type).set(1)

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)
