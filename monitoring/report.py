"""Every number and table of the dashboard, computed from one window's data in one call.

The app renders a :class:`Report`; the benchmark times :func:`load_window` plus
:func:`build_report`, which is exactly the app's work short of drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitoring import catalogue_health, drift, quality, traffic
from monitoring.frames import flatten_ids, list_lengths
from monitoring.loading import WindowData
from monitoring.models import RegistryView, offline_metrics, version_key


@dataclass(frozen=True)
class ReportOptions:
    """The operator's choices: the SLO line, K and table sizes.

    The versions shown are chosen when the window is loaded (:func:`monitoring.loading.only_versions`):
    distinct readers of a subset of versions can only be counted by the store.
    """

    slo_ms: float = 50.0
    recall_k: int = 10
    top_n: int = 10


@dataclass(frozen=True)
class Report:
    """What the dashboard shows for one window; see each module for the definitions."""

    # traffic and latency, over every prediction of the window (latency: histogram estimates)
    requests: int
    users: int
    bucket: str
    latency: traffic.LatencySummary
    slo_breach: float
    requests_over_time: pd.DataFrame
    users_over_time: pd.DataFrame
    latency_over_time: pd.DataFrame
    latency_histogram: pd.DataFrame
    # over the most recent predictions (``recent``) only
    recent_requests: int
    sampled: bool
    degraded_share: float
    feedback_records: int
    rated_recommendations: int
    feedback_quality: quality.FeedbackQuality
    like_rate_by_position: pd.DataFrame
    favourite_recall: quality.FavouriteRecall
    versions: pd.DataFrame
    catalogue_size: int | None
    distinct_recommended: int
    coverage: float
    top_recommended: pd.DataFrame
    top_requested: pd.DataFrame
    popularity_bias: catalogue_health.PopularityBias | None
    popularity_histogram: pd.DataFrame | None
    popularity_drift: drift.DriftResult | None
    genre_drift: drift.DriftResult | None
    unknown_over_time: pd.DataFrame


def build_report(data: WindowData, registry: RegistryView, options: ReportOptions) -> Report:
    """Compute the whole dashboard for ``data`` (already loaded) and the registry's view."""
    summary, recent, bucket = data.traffic, data.recent, data.bucket
    edges = summary.latency_edges_ms
    latency_counts = traffic.total_histogram(summary)
    catalogue = registry.catalogue

    rated = quality.rated_recommendations(data.feedback, recent)
    recall_total, recall_by_version = quality.favourite_recall(recent, options.recall_k)
    per_request = quality.per_request(rated)
    recommended_ids = flatten_ids(recent["prediction_ids"])
    requested_ids = flatten_ids(recent["item_ids"])
    in_catalogue = (
        recommended_ids[np.isin(recommended_ids, catalogue["book_id"].to_numpy())]
        if catalogue is not None
        else recommended_ids
    )
    catalogue_size = len(catalogue) if catalogue is not None else None

    return Report(
        requests=summary.requests,
        users=summary.users,
        bucket=bucket,
        latency=traffic.latency_summary(latency_counts, edges),
        slo_breach=traffic.slo_breach_share(latency_counts, edges, options.slo_ms),
        requests_over_time=traffic.requests_per_bucket(summary),
        users_over_time=traffic.users_per_bucket(summary),
        latency_over_time=traffic.latency_per_bucket(summary),
        latency_histogram=traffic.latency_histogram(latency_counts, edges),
        recent_requests=len(recent),
        sampled=data.sampled,
        degraded_share=traffic.share(traffic.degraded_requests(recent["unknown"], recent["prediction_ids"])),
        feedback_records=len(data.feedback),
        rated_recommendations=len(rated),
        feedback_quality=quality.feedback_quality(per_request),
        like_rate_by_position=quality.like_rate_by_position(rated, per_request),
        favourite_recall=recall_total,
        versions=version_table(
            traffic.latency_by_version(summary), per_request, recall_by_version, registry, options.recall_k
        ),
        catalogue_size=catalogue_size,
        distinct_recommended=int(np.unique(recommended_ids).size),
        coverage=catalogue_health.coverage(in_catalogue, catalogue_size or 0),
        top_recommended=catalogue_health.top_books(recommended_ids, catalogue, options.top_n),
        top_requested=catalogue_health.top_books(requested_ids, catalogue, options.top_n),
        popularity_bias=(
            catalogue_health.popularity_bias(recommended_ids, requested_ids, catalogue)
            if catalogue is not None
            else None
        ),
        popularity_histogram=(
            catalogue_health.popularity_histogram(
                catalogue_health.popularity_percentiles(recommended_ids, catalogue),
                catalogue_health.popularity_percentiles(requested_ids, catalogue),
            )
            if catalogue is not None
            else None
        ),
        popularity_drift=drift.popularity_drift(requested_ids, catalogue) if catalogue is not None else None,
        genre_drift=drift.genre_drift(requested_ids, catalogue) if catalogue is not None else None,
        unknown_over_time=drift.unknown_share_per_bucket(
            recent["time"], list_lengths(recent["unknown"]), list_lengths(recent["item_ids"]), bucket
        ),
    )


def version_table(
    served: pd.DataFrame,
    per_request: pd.DataFrame,
    recall_by_version: pd.DataFrame,
    registry: RegistryView,
    recall_k: int,
) -> pd.DataFrame:
    """Each model version's online numbers beside the offline metrics of its manifest.

    ``served``: ``model_version``, ``requests`` and ``p95_ms`` over the whole window
    (:func:`monitoring.traffic.latency_by_version`). One row per version that served a request
    in the window or is registered; online columns are NaN for a version without traffic,
    offline ones for a version the registry lacks.
    """
    feedback = quality.feedback_quality_by_version(per_request)
    recall = recall_by_version.rename(
        columns={"added": "favourites_added", "hits": "favourites_hit", "recall": f"recall@{recall_k}"}
    )
    online = served.merge(feedback, on="model_version", how="left").merge(
        recall, on="model_version", how="left"
    )
    online.insert(0, "version_key", online["model_version"].map(version_key).astype("str"))
    offline = offline_metrics(registry.manifests, registry.production)
    table = online.merge(offline, on="version_key", how="outer")
    table["model_version"] = table["model_version"].fillna(table["version_key"])
    numeric = pd.to_numeric(table["version_key"], errors="coerce")
    table = table.assign(_order=numeric).sort_values(["_order", "version_key"], na_position="last")
    return table.drop(columns=["_order", "version_key"]).reset_index(drop=True)
