"""Plotly figures of the dashboard, each built from one of the report's tables.

Plotly reads a subset of HTML in text (``<b>``, ``<a href>``), so text that comes from data
(titles, genres) is escaped before it becomes a label.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from monitoring.drift import DriftResult

# A bar covers this share of its bucket's width, so neighbouring buckets stay apart.
BAR_SHARE = 0.8
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 320, "legend": {"orientation": "h"}}


def _figure(title: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(title=title, **_LAYOUT)
    return figure


def _bucket_ms(bucket: str) -> float:
    """A bucket's width ("1min", "1h", "7D", …) in milliseconds, the unit of a date axis."""
    return float(pd.Timedelta(bucket).total_seconds() * 1000.0)


def _time_axis(figure: go.Figure, starts: pd.Series, bucket: str) -> None:
    """Span the buckets plus one bucket either side: each is drawn at its start.

    Without it plotly zooms a single bucket (a new deployment's first minute) to a span of
    microseconds, with tick labels to match.
    """
    if len(starts):
        margin = pd.Timedelta(milliseconds=_bucket_ms(bucket))
        figure.update_xaxes(range=[starts.min() - margin, starts.max() + margin])


def requests_over_time(per_bucket: pd.DataFrame, bucket: str) -> go.Figure:
    """Stacked bars of requests per bucket, one colour per model version."""
    figure = _figure(f"Requests per {bucket}")
    for version, rows in per_bucket.groupby("model_version", sort=True):
        figure.add_bar(
            x=rows["bucket"],
            y=rows["requests"],
            width=BAR_SHARE * _bucket_ms(bucket),  # centred on the bucket's start, like the points
            name=f"version {html.escape(str(version))}",
        )
    figure.update_layout(barmode="stack", yaxis_title="requests")
    _time_axis(figure, per_bucket["bucket"], bucket)
    return figure


def users_over_time(per_bucket: pd.DataFrame, bucket: str) -> go.Figure:
    """Distinct readers per bucket."""
    figure = _figure(f"Unique users per {bucket}")
    figure.add_scatter(x=per_bucket["bucket"], y=per_bucket["users"], mode="lines+markers", name="users")
    figure.update_layout(yaxis_title="users")
    _time_axis(figure, per_bucket["bucket"], bucket)
    return figure


def latency_over_time(per_bucket: pd.DataFrame, bucket: str, slo_ms: float) -> go.Figure:
    """p50, p95 and p99 latency per bucket, with the SLO as a dashed line."""
    figure = _figure(f"Latency per {bucket} (ms)")
    for column in ("p50", "p95", "p99"):
        figure.add_scatter(x=per_bucket["bucket"], y=per_bucket[column], mode="lines+markers", name=column)
    figure.add_hline(y=slo_ms, line_dash="dash", line_color="red", annotation_text=f"SLO {slo_ms:g} ms")
    figure.update_layout(yaxis_title="ms")
    _time_axis(figure, per_bucket["bucket"], bucket)
    return figure


def latency_histogram(histogram: pd.DataFrame, slo_ms: float) -> go.Figure:
    """Requests per latency bin, with the SLO as a dashed line."""
    figure = _figure("Latency distribution")  # short: a long title runs under plotly's toolbar
    figure.add_bar(
        x=(histogram["left"] + histogram["right"]) / 2,
        y=histogram["requests"],
        width=(histogram["right"] - histogram["left"]),
        name="requests",
    )
    figure.add_vline(x=slo_ms, line_dash="dash", line_color="red", annotation_text=f"SLO {slo_ms:g} ms")
    figure.update_layout(
        xaxis_title="ms (the last bin holds the slowest 0.1%)", yaxis_title="requests", showlegend=False
    )
    return figure


def like_rate_by_position(by_position: pd.DataFrame) -> go.Figure:
    """Like rate at each rank of the recommendation list."""
    figure = _figure("Like rate by position")
    figure.add_bar(x=by_position["position"], y=by_position["like_rate"], name="like rate")
    figure.update_layout(xaxis_title="position (1 = top)", yaxis_title="like rate", yaxis_tickformat=".0%")
    return figure


def popularity_histogram(histogram: pd.DataFrame) -> go.Figure:
    """Shares of recommended and of requested books per popularity percentile."""
    figure = _figure("Popularity percentile: recommended vs requested")
    labels = [
        f"{left:.0f}-{right:.0f}" for left, right in zip(histogram["left"], histogram["right"], strict=True)
    ]
    figure.add_bar(x=labels, y=histogram["recommended"], name="recommended")
    figure.add_bar(x=labels, y=histogram["requested"], name="requested")
    figure.update_layout(barmode="group", xaxis_title="popularity percentile", yaxis_tickformat=".0%")
    return figure


def drift_bins(result: DriftResult, title: str) -> go.Figure:
    """Training vs requested shares per drift bin."""
    figure = _figure(title)
    labels = [html.escape(str(label)) for label in result.bins["bin"]]
    figure.add_bar(x=labels, y=result.bins["training"], name="training data")
    figure.add_bar(x=labels, y=result.bins["requested"], name="requested")
    figure.update_layout(barmode="group", yaxis_tickformat=".0%")
    return figure


def unknown_share(per_bucket: pd.DataFrame, bucket: str) -> go.Figure:
    """Share of typed titles that matched no book, per bucket."""
    figure = _figure(f"Unknown titles per {bucket}")
    figure.add_scatter(
        x=per_bucket["bucket"], y=per_bucket["unknown_share"], mode="lines+markers", name="unknown"
    )
    figure.update_layout(yaxis_title="share of typed titles", yaxis_tickformat=".0%")
    _time_axis(figure, per_bucket["bucket"], bucket)
    return figure


VERDICT_COLOURS = {"challenger better": "green", "challenger worse": "red"}


def arm_changes(changes: pd.DataFrame) -> go.Figure:
    """Challenger against production per quality metric: relative change with its interval, zero marked."""
    figure = _figure("Challenger vs production: quality, change relative to production")
    figure.add_scatter(
        x=changes["change"] * 100,
        y=changes["metric"],
        mode="markers",
        marker={"size": 11, "color": [VERDICT_COLOURS.get(v, "gray") for v in changes["verdict"]]},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": (changes["high"] - changes["change"]) * 100,
            "arrayminus": (changes["change"] - changes["low"]) * 100,
        },
        name="change",
        showlegend=False,
    )
    figure.add_vline(x=0, line_dash="dash", line_color="black")
    figure.update_layout(xaxis_title="% vs production (interval at the comparison's confidence)")
    figure.update_yaxes(autorange="reversed")
    return figure
