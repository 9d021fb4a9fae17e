"""Online comparison of two serving arms (production and challenger) from what readers did.

Shared by the operators' dashboard (its "Arms" section) and ``registry_cli promote --online``;
numpy only, so it imports in milliseconds anywhere.

Two steps:

1. :func:`arm_outcomes` reduces logged predictions and feedback to flat per-arm arrays
   (:class:`ArmOutcomes`), with the dashboard's definitions (``monitoring/quality.py``):
   feedback counts when it names a logged prediction (``request_id``) and a book that
   prediction showed, a reader's last vote on a book wins, and a *rated request* has at least
   one such like or dislike. Like rate = liked books / books shown over rated requests; hit
   rate = share of rated requests with a like; MRR = mean over rated requests of 1 / rank of
   the best-ranked like (0 without one); Recall@K of later favourites = books a reader names
   in a later request that an earlier recommendation of the same arm showed in its top K.
2. :func:`compare_arms` estimates each metric per arm with a confidence interval, the
   challenger-minus-production difference with its interval and a p-value, and a plain
   verdict:

   - like rate and hit rate (proportions): **two-proportion z-test** with reader-clustered
     standard errors (:func:`clustered_proportion`), normal intervals per arm and for the
     difference. Like rate counts every shown book of a rated request as a trial and hit rate
     every rated request; a reader's votes move together, so the errors are computed from
     readers' totals rather than as if every book were an independent trial (which would call
     differences far too early);
   - MRR and Recall@K (means of per-request or per-favourite values that cluster by reader)
     and mean latency: **seeded percentile bootstrap over readers** (latency: over requests),
     each arm resampled on its own; the p-value is twice the smaller share of resampled
     differences on either side of zero.

   A metric's verdict is "challenger better" or "challenger worse" when its p-value is below
   ``1 - confidence`` (in the direction the metric improves), else "not yet distinguishable".
   Nothing is decided before each arm has ``min_readers`` readers. The overall verdict weighs
   the quality metrics only (latency is reported beside them): worse when any is significantly
   worse, better when at least one is significantly better and none worse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

PRODUCTION = "production"
CHALLENGER = "challenger"
SHADOW = "shadow"

BETTER = "challenger better"
WORSE = "challenger worse"
UNDECIDED = "not yet distinguishable"

Z_TEST = "two-proportion z-test"
BOOTSTRAP_READERS = "bootstrap over readers"
BOOTSTRAP_REQUESTS = "bootstrap over requests"

DEFAULT_MIN_READERS = 100
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2_000
_CHUNK_CELLS = 2_000_000  # resampled units drawn at once (about 16 MB of indices)


class ServedPrediction(Protocol):
    """The fields of a logged prediction the comparison reads (a ``PredictionRecord`` has them)."""

    @property
    def request_id(self) -> str: ...
    @property
    def ts(self) -> str: ...
    @property
    def userid(self) -> str: ...
    @property
    def item_ids(self) -> Any: ...  # sequence of int book ids the reader sent
    @property
    def prediction_ids(self) -> Any: ...  # sequence of int book ids shown, best first
    @property
    def latency_ms(self) -> float: ...


class Vote(Protocol):
    """The fields of a feedback record the comparison reads (a ``FeedbackRecord`` has them)."""

    @property
    def request_id(self) -> str | None: ...
    @property
    def book_id(self) -> int: ...
    @property
    def value(self) -> int: ...


@dataclass(frozen=True)
class ArmOutcomes:
    """What the readers of one arm did, as flat arrays (readers as int codes, shared across arms).

    - per request: ``request_reader`` (n_requests,) int64, ``latency_ms`` (n_requests,) float64;
    - per rated request: ``rated_reader``, ``shown``, ``likes``, ``dislikes`` (n_rated,) int64 and
      ``first_like_rank`` (n_rated,) float64, 1-based, ``inf`` when nothing was liked;
    - per later favourite: ``favourite_reader`` (n_added,) int64 and ``favourite_hit``
      (n_added,) bool.
    """

    arm: str
    request_reader: np.ndarray
    latency_ms: np.ndarray
    rated_reader: np.ndarray
    shown: np.ndarray
    likes: np.ndarray
    dislikes: np.ndarray
    first_like_rank: np.ndarray
    favourite_reader: np.ndarray
    favourite_hit: np.ndarray

    @property
    def requests(self) -> int:
        """Predictions this arm answered."""
        return len(self.request_reader)

    @property
    def readers(self) -> int:
        """Distinct readers this arm answered."""
        return int(np.unique(self.request_reader).size)

    @property
    def rated_requests(self) -> int:
        """Requests with at least one like or dislike of a shown book."""
        return len(self.rated_reader)

    @property
    def like_rate(self) -> float:
        """Liked books / books shown, over rated requests."""
        return _ratio(self.likes.sum(), self.shown.sum())

    @property
    def dislike_rate(self) -> float:
        """Disliked books / books shown, over rated requests."""
        return _ratio(self.dislikes.sum(), self.shown.sum())

    @property
    def hit_rate(self) -> float:
        """Share of rated requests with at least one like."""
        return _ratio((self.likes > 0).sum(), len(self.likes))

    @property
    def mrr(self) -> float:
        """Mean over rated requests of 1 / rank of the best-ranked like (0 without one)."""
        return _ratio((1.0 / self.first_like_rank).sum(), len(self.first_like_rank))

    @property
    def favourite_recall(self) -> float:
        """Later favourites an earlier recommendation had shown in its top K / later favourites."""
        return _ratio(self.favourite_hit.sum(), len(self.favourite_hit))

    @property
    def mean_latency_ms(self) -> float:
        """Mean server-side latency of the arm's predictions."""
        return _ratio(self.latency_ms.sum(), len(self.latency_ms))


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def arm_of(prediction: object) -> str:
    """The arm that answered ``prediction``: its ``arm`` field, ``production`` when it has none."""
    arm = getattr(prediction, "arm", None)
    return str(arm) if isinstance(arm, str) and arm else PRODUCTION


def arm_outcomes(
    predictions: Iterable[ServedPrediction], feedback: Iterable[Vote], k: int
) -> dict[str, ArmOutcomes]:
    """Reduce logged predictions and feedback (oldest first) to each arm's outcomes.

    Shadow-mode requests (arm ``shadow``) showed production's list, so they count as
    production's; the challenger's lists they logged (``shadow_prediction_ids``) make a
    ``shadow`` arm that has readers and later favourites only (readers never saw those lists, so
    no votes or latency judge it).

    ``k`` is the K of Recall@K of later favourites. A reader's *later favourite* is a book in the
    ``item_ids`` of one of their predictions that none of their earlier predictions sent; it
    counts for each arm that had answered the reader before, and is a hit for that arm when one
    of the arm's earlier answers to the reader showed it in its top ``k``. Predictions are put in
    ``ts`` order (then ``request_id``); the arms are in the order first seen.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    served = sorted(predictions, key=lambda p: (p.ts, p.request_id))
    votes: dict[tuple[str, int], int] = {}
    for vote in feedback:
        if isinstance(vote.request_id, str):  # frames hold NaN where a vote names no request
            votes[(vote.request_id, int(vote.book_id))] = int(vote.value)  # the last word wins
    reader_codes: dict[str, int] = {}
    columns: dict[str, dict[str, list[Any]]] = {}
    sent_before: dict[int, set[int]] = {}
    shown_before: dict[int, dict[str, set[int]]] = {}  # reader -> arm -> top-k books shown so far
    for prediction in served:
        logged_arm = arm_of(prediction)
        # A shadow request showed production's list: its reader and votes judge production.
        arm = PRODUCTION if logged_arm == SHADOW else logged_arm
        reader = reader_codes.setdefault(prediction.userid, len(reader_codes))
        arm_columns = columns.setdefault(arm, {name: [] for name in _COLUMNS})
        arm_columns["request_reader"].append(reader)
        arm_columns["latency_ms"].append(float(prediction.latency_ms))
        shown = [int(book) for book in prediction.prediction_ids]
        rated = [
            (rank, votes[(prediction.request_id, book)])
            for rank, book in enumerate(shown, 1)
            if (prediction.request_id, book) in votes
        ]
        if rated:
            liked = [rank for rank, value in rated if value > 0]
            arm_columns["rated_reader"].append(reader)
            arm_columns["shown"].append(len(shown))
            arm_columns["likes"].append(len(liked))
            arm_columns["dislikes"].append(len(rated) - len(liked))
            arm_columns["first_like_rank"].append(float(min(liked)) if liked else math.inf)
        sent = {int(book) for book in prediction.item_ids}
        if reader in sent_before:
            for book in sorted(sent - sent_before[reader]):
                for earlier_arm, books in shown_before[reader].items():
                    favourites = columns[earlier_arm]
                    favourites["favourite_reader"].append(reader)
                    favourites["favourite_hit"].append(book in books)
        sent_before.setdefault(reader, set()).update(sent)
        shown_before.setdefault(reader, {}).setdefault(arm, set()).update(shown[:k])
        if logged_arm == SHADOW:
            # What the challenger would have shown: enough for Recall@K of later favourites only.
            would_show = [int(book) for book in getattr(prediction, "shadow_prediction_ids", None) or []]
            columns.setdefault(SHADOW, {name: [] for name in _COLUMNS})["request_reader"].append(reader)
            shown_before[reader].setdefault(SHADOW, set()).update(would_show[:k])
    return {arm: _outcomes(arm, values) for arm, values in columns.items()}


_COLUMNS = (
    "request_reader",
    "latency_ms",
    "rated_reader",
    "shown",
    "likes",
    "dislikes",
    "first_like_rank",
    "favourite_reader",
    "favourite_hit",
)
_DTYPES = {"latency_ms": np.float64, "first_like_rank": np.float64, "favourite_hit": np.bool_}


def _outcomes(arm: str, values: dict[str, list[Any]]) -> ArmOutcomes:
    arrays: dict[str, np.ndarray] = {
        name: np.asarray(values[name], dtype=_DTYPES.get(name, np.int64)) for name in _COLUMNS
    }
    return ArmOutcomes(arm=arm, **arrays)


def empty_outcomes(arm: str) -> ArmOutcomes:
    """An arm that answered nobody."""
    return _outcomes(arm, {name: [] for name in _COLUMNS})


# -- statistics ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """A value with its confidence interval (NaN when undefined)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class MetricComparison:
    """One metric on both arms, their difference (challenger − production) and the verdict."""

    name: str
    label: str
    method: str
    higher_is_better: bool
    production: Estimate
    challenger: Estimate
    difference: Estimate
    p_value: float
    verdict: str


@dataclass(frozen=True)
class ArmComparison:
    """Every metric compared, and the overall verdict with the reason for it."""

    production_readers: int
    challenger_readers: int
    min_readers: int
    confidence: float
    metrics: tuple[MetricComparison, ...]
    verdict: str
    reason: str

    @property
    def enough_readers(self) -> bool:
        """Whether both arms reached ``min_readers``."""
        return min(self.production_readers, self.challenger_readers) >= self.min_readers

    def metric(self, name: str) -> MetricComparison:
        """One metric's comparison: ``like_rate``, ``hit_rate``, ``mrr``, ``recall`` or ``latency``."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def worse_beyond(self, max_drop: float) -> list[str]:
        """Quality metrics whose challenger may be worse than production by more than ``max_drop``.

        ``max_drop`` is relative to production's value (0.05: five per cent). A metric is named
        when the worse end of its difference's interval goes past ``-max_drop x production``
        (a non-inferiority check: the interval must rule out a larger drop), or when it cannot
        be measured on either arm. Empty means the challenger is not worse beyond ``max_drop``.
        """
        if max_drop < 0:
            raise ValueError(f"max_drop must be at least 0, got {max_drop}")
        named = []
        for metric in self.metrics:
            if metric.name in QUALITY_METRICS:
                margin = -max_drop * abs(metric.production.value)
                if not metric.difference.low >= margin:  # NaN (unmeasured) fails too
                    named.append(metric.name)
        return named


QUALITY_METRICS = ("like_rate", "hit_rate", "mrr", "recall")


def clustered_proportion(units: np.ndarray, successes: np.ndarray, trials: np.ndarray) -> tuple[float, float]:
    """Σ successes / Σ trials and its variance, with ``units`` (readers) as clusters.

    ``units``, ``successes`` and ``trials`` are ``(n_observations,)``. The variance is the ratio
    estimator's, ``n/(n-1) · Σ_r (x_r − p·m_r)² / M²`` over the units' totals ``x_r`` and
    ``m_r`` (``M = Σ m_r``): votes of one reader move together, so ten books of one list count
    for less than ten readers' books. NaN when there are no trials (both) or fewer than two units.
    """
    per_unit_successes, per_unit_trials = _cluster_sums(units, successes, trials)
    total = float(per_unit_trials.sum())
    if total == 0:
        return math.nan, math.nan
    share = float(per_unit_successes.sum()) / total
    n_units = len(per_unit_trials)
    if n_units < 2:
        return share, math.nan
    residuals = per_unit_successes - share * per_unit_trials
    return share, n_units / (n_units - 1) * float((residuals**2).sum()) / total**2


def two_proportion_test(
    production: tuple[np.ndarray, np.ndarray, np.ndarray],
    challenger: tuple[np.ndarray, np.ndarray, np.ndarray],
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[Estimate, Estimate, Estimate, float]:
    """Two proportions, their difference (challenger − production) and the z-test's p-value.

    Each side is ``(units, successes, trials)`` as :func:`clustered_proportion` takes them; the
    standard errors are reader-clustered, the intervals normal (clipped to [0, 1] per arm).
    """
    z = _z(confidence)
    estimates = []
    variances = []
    for side in (production, challenger):
        share, variance = clustered_proportion(*side)
        spread = z * math.sqrt(variance) if not math.isnan(variance) else math.nan
        estimates.append(Estimate(share, max(0.0, share - spread), min(1.0, share + spread)))
        variances.append(variance)
    difference = estimates[1].value - estimates[0].value
    error = math.sqrt(variances[0] + variances[1])
    if math.isnan(difference) or math.isnan(error):
        return estimates[0], estimates[1], Estimate(difference, math.nan, math.nan), math.nan
    if error == 0:
        p_value = 1.0 if difference == 0 else 0.0
    else:
        p_value = math.erfc(abs(difference) / error / math.sqrt(2))
    spread = z * error
    return estimates[0], estimates[1], Estimate(difference, difference - spread, difference + spread), p_value


def _z(confidence: float) -> float:
    """The standard normal quantile of ``(1 + confidence) / 2`` (bisection on erf; no scipy)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    target = (1 + confidence) / 2
    low, high = 0.0, 10.0
    for _ in range(100):
        middle = (low + high) / 2
        if 0.5 * (1 + math.erf(middle / math.sqrt(2))) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _cluster_sums(
    units: np.ndarray, numerator: np.ndarray, denominator: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator summed per unit (reader or request): two ``(n_units,)`` float64."""
    _, codes = np.unique(units, return_inverse=True)
    n_units = int(codes.max()) + 1 if len(codes) else 0
    return (
        np.bincount(codes, weights=numerator.astype(np.float64), minlength=n_units),
        np.bincount(codes, weights=denominator.astype(np.float64), minlength=n_units),
    )


def bootstrap_ratios(
    numerator: np.ndarray, denominator: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Ratio of sums over units resampled with replacement: ``(resamples,)`` float64.

    ``numerator`` and ``denominator`` are ``(n_units,)`` per-unit sums; a resample whose
    denominator is zero gives NaN.
    """
    n_units = len(numerator)
    if n_units == 0:
        return np.full(resamples, np.nan)
    ratios = np.empty(resamples, dtype=np.float64)
    chunk = max(1, _CHUNK_CELLS // n_units)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        # Drawing unit indices and summing is several times faster than multinomial weights.
        picked = rng.integers(0, n_units, size=(size, n_units))  # (size, n_units)
        top, bottom = numerator[picked].sum(axis=1), denominator[picked].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios[start : start + size] = np.where(bottom > 0, top / np.maximum(bottom, 1e-300), np.nan)
    return ratios


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _bootstrap_metric(
    production: tuple[np.ndarray, np.ndarray, np.ndarray],
    challenger: tuple[np.ndarray, np.ndarray, np.ndarray],
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[Estimate, Estimate, Estimate, float]:
    """Per-arm ratio-of-sums estimates, their difference and a two-sided bootstrap p-value.

    Each side is ``(units, numerator, denominator)``, one row per observation.
    """
    estimates = []
    draws = []
    for units, numerator, denominator in (production, challenger):
        top, bottom = _cluster_sums(units, numerator, denominator)
        value = _ratio(top.sum(), bottom.sum())
        resampled = bootstrap_ratios(top, bottom, resamples, rng)
        estimates.append(Estimate(value, *_percentiles(resampled, confidence)))
        draws.append(resampled)
    differences = draws[1] - draws[0]
    finite = differences[np.isfinite(differences)]
    point = estimates[1].value - estimates[0].value
    if finite.size == 0 or math.isnan(point):
        return estimates[0], estimates[1], Estimate(math.nan, math.nan, math.nan), math.nan
    p_value = min(1.0, 2 * min(float(np.mean(finite <= 0)), float(np.mean(finite >= 0))))
    return estimates[0], estimates[1], Estimate(point, *_percentiles(differences, confidence)), p_value


def _verdict(difference: float, p_value: float, higher_is_better: bool, alpha: float, decided: bool) -> str:
    if not decided or math.isnan(p_value) or p_value >= alpha:
        return UNDECIDED
    improved = difference > 0 if higher_is_better else difference < 0
    return BETTER if improved else WORSE


def compare_arms(
    production: ArmOutcomes,
    challenger: ArmOutcomes,
    *,
    min_readers: int = DEFAULT_MIN_READERS,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 42,
) -> ArmComparison:
    """Compare like rate, hit rate, MRR, Recall@K of later favourites and mean latency.

    Methods and verdicts are described in the module docstring. ``seed`` makes the bootstrap
    repeatable: the same outcomes and seed give the same intervals.
    """
    if min_readers < 1:
        raise ValueError(f"min_readers must be at least 1, got {min_readers}")
    if resamples < 100:
        raise ValueError(f"resamples must be at least 100, got {resamples}")
    alpha = 1 - confidence
    _z(confidence)  # refuses a confidence outside (0, 1)
    decided = min(production.readers, challenger.readers) >= min_readers
    rng = np.random.default_rng(seed)
    metrics: list[MetricComparison] = []

    def proportion(name: str, label: str, sides: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        a, b, difference, p_value = two_proportion_test(sides[0], sides[1], confidence)
        verdict = _verdict(difference.value, p_value, True, alpha, decided)
        metrics.append(MetricComparison(name, label, Z_TEST, True, a, b, difference, p_value, verdict))

    def resampled(
        name: str, label: str, method: str, higher: bool, sides: list[tuple[np.ndarray, ...]]
    ) -> None:
        a, b, difference, p_value = _bootstrap_metric(
            (sides[0][0], sides[0][1], sides[0][2]),
            (sides[1][0], sides[1][1], sides[1][2]),
            resamples,
            confidence,
            rng,
        )
        verdict = _verdict(difference.value, p_value, higher, alpha, decided)
        metrics.append(MetricComparison(name, label, method, higher, a, b, difference, p_value, verdict))

    arms = (production, challenger)
    proportion("like_rate", "Like rate", [(arm.rated_reader, arm.likes, arm.shown) for arm in arms])
    proportion(
        "hit_rate",
        "Hit rate",
        [(arm.rated_reader, (arm.likes > 0).astype(np.int64), np.ones(arm.rated_requests)) for arm in arms],
    )
    resampled(
        "mrr",
        "MRR",
        BOOTSTRAP_READERS,
        True,
        [(arm.rated_reader, 1.0 / arm.first_like_rank, np.ones(arm.rated_requests)) for arm in arms],
    )
    resampled(
        "recall",
        "Recall@K (later favourites)",
        BOOTSTRAP_READERS,
        True,
        [(arm.favourite_reader, arm.favourite_hit, np.ones(len(arm.favourite_hit))) for arm in arms],
    )
    resampled(
        "latency",
        "Mean latency (ms)",
        BOOTSTRAP_REQUESTS,
        False,
        [(np.arange(len(arm.latency_ms)), arm.latency_ms, np.ones(len(arm.latency_ms))) for arm in arms],
    )
    verdict, reason = _overall(metrics, production.readers, challenger.readers, min_readers)
    return ArmComparison(
        production_readers=production.readers,
        challenger_readers=challenger.readers,
        min_readers=min_readers,
        confidence=confidence,
        metrics=tuple(metrics),
        verdict=verdict,
        reason=reason,
    )


def _overall(
    metrics: list[MetricComparison], production_readers: int, challenger_readers: int, min_readers: int
) -> tuple[str, str]:
    if min(production_readers, challenger_readers) < min_readers:
        return UNDECIDED, (
            f"needs {min_readers} readers per arm; production has {production_readers}, "
            f"challenger {challenger_readers}"
        )
    quality = [metric for metric in metrics if metric.name in QUALITY_METRICS]
    worse = [metric.label for metric in quality if metric.verdict == WORSE]
    better = [metric.label for metric in quality if metric.verdict == BETTER]
    if worse:
        return WORSE, "significantly worse on " + ", ".join(worse)
    if better:
        return BETTER, "significantly better on " + ", ".join(better) + ", worse on none"
    return UNDECIDED, "no quality metric differs significantly yet"
