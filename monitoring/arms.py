"""Production and challenger side by side: online figures with intervals, a verdict, offline metrics.

The online numbers come from :mod:`readcrumbs.online` (the same code ``registry_cli promote
--online`` decides with), fed with the window's recent predictions and their feedback; this
module only arranges them into tables for the dashboard's "Arms" tab.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import pandas as pd

from monitoring.loading import WindowData
from monitoring.models import RegistryView
from readcrumbs.online import (
    CHALLENGER,
    PRODUCTION,
    QUALITY_METRICS,
    SHADOW,
    ArmComparison,
    ArmOutcomes,
    Estimate,
    MetricComparison,
    ServedPrediction,
    Vote,
    arm_outcomes,
    compare_arms,
    empty_outcomes,
)
from readcrumbs.registry import Manifest

OFFLINE_METRICS = (
    ("fav3", "recall@10"),
    ("fav3", "ndcg@100"),
    ("fav3", "hit_rate@10"),
    ("fold80", "recall@10"),
    ("fav3", "coverage@10"),
)


@dataclass(frozen=True)
class ArmsView:
    """What the Arms tab shows.

    ``served``: one row per arm seen in the window (``arm``, ``model_versions``, ``requests``,
    ``readers``, ``rated_requests``). ``comparison`` is None when the window has no
    challenger traffic; ``shadow`` says it compares shadow-mode lists (Recall@K only, see
    :func:`readcrumbs.online.arm_outcomes`). ``offline``: one row per offline metric, one column
    per arm's manifest.
    """

    outcomes: dict[str, ArmOutcomes]
    served: pd.DataFrame
    comparison: ArmComparison | None
    offline: pd.DataFrame
    shadow: bool = False


def arm_versions(recent: pd.DataFrame) -> dict[str, list[str]]:
    """The model versions that answered each arm in ``recent``, oldest first.

    Shadow-mode requests were answered by production (``model_version``); the ``shadow`` arm is
    the challenger that scored them alongside (``shadow_version``).
    """
    versions: dict[str, dict[str, None]] = {}
    ordered = recent.sort_values("ts", kind="stable")
    shadow_versions = ordered["shadow_version"] if "shadow_version" in ordered else [None] * len(ordered)
    for arm, version, shadow_version in zip(
        ordered["arm"], ordered["model_version"], shadow_versions, strict=True
    ):
        versions.setdefault(PRODUCTION if arm == SHADOW else str(arm), {})[str(version)] = None
        if arm == SHADOW and isinstance(shadow_version, str):
            versions.setdefault(SHADOW, {})[shadow_version] = None
    return {arm: list(found) for arm, found in sorted(versions.items())}


def build_arms(
    data: WindowData, registry: RegistryView, recall_k: int, min_readers: int, seed: int = 42
) -> ArmsView:
    """Per-arm outcomes of the window's recent predictions and, with a challenger, the comparison."""
    # Named tuples of the frames carry the record fields the comparison reads.
    predictions = cast("Iterable[ServedPrediction]", data.recent.itertuples(index=False))
    votes = cast("Iterable[Vote]", data.feedback.itertuples(index=False))
    outcomes = arm_outcomes(predictions, votes, recall_k)
    versions = arm_versions(data.recent)
    served = pd.DataFrame(
        [
            {
                "arm": arm,
                "model_versions": ", ".join(versions.get(arm, [])),
                "requests": outcome.requests,
                "readers": outcome.readers,
                "rated_requests": outcome.rated_requests,
            }
            for arm, outcome in sorted(outcomes.items(), key=lambda item: _arm_order(item[0]))
        ],
        columns=["arm", "model_versions", "requests", "readers", "rated_requests"],
    )
    comparison = None
    # Split traffic compares the challenger's own readers; shadow mode only its logged lists.
    contender = CHALLENGER if CHALLENGER in outcomes else SHADOW if SHADOW in outcomes else None
    if contender is not None:
        comparison = compare_arms(
            outcomes.get(PRODUCTION) or empty_outcomes(PRODUCTION),
            outcomes[contender],
            min_readers=min_readers,
            seed=seed,
        )
    offline = offline_side_by_side(registry, versions)
    return ArmsView(outcomes, served, comparison, offline, shadow=contender == SHADOW)


def _arm_order(arm: str) -> tuple[int, str]:
    return ({PRODUCTION: 0, CHALLENGER: 1}.get(arm, 2), arm)


def offline_side_by_side(registry: RegistryView, versions: dict[str, list[str]]) -> pd.DataFrame:
    """Offline metrics of the manifest behind each arm (its alias, else its newest version served).

    One row per :data:`OFFLINE_METRICS` entry (``metric``), one column per arm named
    ``"<arm> v<version>"``; an arm without a manifest is left out.
    """
    by_version = {str(manifest.version): manifest for manifest in registry.manifests}
    chosen: list[tuple[str, Manifest]] = []
    for arm, alias in ((PRODUCTION, registry.production), (CHALLENGER, registry.challenger)):
        served = versions.get(arm, []) or (versions.get(SHADOW, []) if arm == PRODUCTION else [])
        key = str(alias) if alias is not None else (served[-1] if served else None)
        if key is not None and key in by_version:
            chosen.append((arm, by_version[key]))
    rows = []
    for protocol, name in OFFLINE_METRICS:
        row: dict[str, object] = {"metric": f"{protocol} {name}"}
        for arm, manifest in chosen:
            value = manifest.metric(protocol, name)
            row[f"{arm} v{manifest.version}"] = math.nan if value is None else round(value, 4)
        rows.append(row)
    return pd.DataFrame(rows, columns=["metric", *(f"{arm} v{m.version}" for arm, m in chosen)])


def _format(value: float, kind: str) -> str:
    if math.isnan(value):
        return "—"
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "ms":
        return f"{value:.1f}"
    return f"{value:.3f}"


def format_estimate(estimate: Estimate, kind: str, signed: bool = False) -> str:
    """``"32.5% [30.1%, 34.9%]"``; a dash when undefined."""
    if math.isnan(estimate.value):
        return "—"
    value = _format(estimate.value, kind)
    if signed and estimate.value >= 0:
        value = "+" + value
    if math.isnan(estimate.low):
        return value
    return f"{value} [{_format(estimate.low, kind)}, {_format(estimate.high, kind)}]"


def _p_value(p_value: float) -> str:
    if math.isnan(p_value):
        return "—"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _kind(metric: MetricComparison) -> str:
    return {"like_rate": "percent", "hit_rate": "percent", "recall": "percent", "latency": "ms"}.get(
        metric.name, "number"
    )


def comparison_table(comparison: ArmComparison) -> pd.DataFrame:
    """One row per metric: verdict, both arms and the difference with intervals, p-value, method."""
    rows = []
    for metric in comparison.metrics:
        kind = _kind(metric)
        rows.append(
            {
                "metric": metric.label,
                "verdict": metric.verdict,
                "production": format_estimate(metric.production, kind),
                "challenger": format_estimate(metric.challenger, kind),
                "difference": format_estimate(metric.difference, kind, signed=True),
                "p-value": _p_value(metric.p_value),
                "test": metric.method,
            }
        )
    return pd.DataFrame(
        rows, columns=["metric", "verdict", "production", "challenger", "difference", "p-value", "test"]
    )


def relative_changes(comparison: ArmComparison) -> pd.DataFrame:
    """Each quality metric's challenger − production as a share of production's value, with its interval.

    Columns ``metric``, ``change``, ``low``, ``high`` (fractions: 0.1 = 10 % higher), ``verdict``;
    latency (on another scale; it is in the table) and metrics whose production value is zero or
    undefined are left out.
    """
    rows = []
    for metric in comparison.metrics:
        if metric.name not in QUALITY_METRICS:
            continue
        base = metric.production.value
        if math.isnan(base) or base == 0 or math.isnan(metric.difference.value):
            continue
        rows.append(
            {
                "metric": metric.label,
                "change": metric.difference.value / base,
                "low": metric.difference.low / base,
                "high": metric.difference.high / base,
                "verdict": metric.verdict,
            }
        )
    return pd.DataFrame(rows, columns=["metric", "change", "low", "high", "verdict"])
