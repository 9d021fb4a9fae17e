"""Quality from what readers do: likes and dislikes of recommendations, and later favourites.

Feedback counts only when it is tied to a logged prediction (``request_id``) and names a book
that prediction showed; the book's rank is its 1-based place in the prediction's
``prediction_ids``, so it does not depend on how a client numbers ``position``. A reader who
changes their mind counts with their last word. A *rated request* is a prediction with at
least one such like or dislike; every feedback rate below is over rated requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitoring.frames import explode_ranked, list_lengths

_RATED_COLUMNS = ["request_id", "model_version", "shown", "book_id", "rank", "value"]
_REQUEST_COLUMNS = ["request_id", "model_version", "shown", "likes", "dislikes", "first_like_rank"]


@dataclass(frozen=True)
class FeedbackQuality:
    """Feedback rates over rated requests (NaN when there is none)."""

    rated_requests: int
    likes: int
    dislikes: int
    like_rate: float
    dislike_rate: float
    hit_rate: float
    mrr: float


@dataclass(frozen=True)
class FavouriteRecall:
    """Later favourites that an earlier recommendation had already shown (Recall@K)."""

    added: int
    hits: int
    recall: float


def rated_recommendations(feedback: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per rated recommendation.

    ``feedback``: columns ``request_id`` (may be missing), ``book_id``, ``value`` (+1/-1), oldest
    first. ``predictions``: ``request_id``, ``model_version``, ``prediction_ids`` (lists).
    Returns ``request_id``, ``model_version``, ``shown`` (books the request showed), ``book_id``,
    ``rank`` (1-based) and ``value``. Feedback on an unknown request or on a book the request
    did not show is left out.
    """
    tied = feedback.loc[feedback["request_id"].notna(), ["request_id", "book_id", "value"]]
    # Oldest first, so keep="last" keeps the reader's final word on each book.
    tied = tied.drop_duplicates(["request_id", "book_id"], keep="last")
    rated_predictions = predictions.loc[predictions["request_id"].isin(tied["request_id"])]
    shown = pd.DataFrame(
        {
            "request_id": rated_predictions["request_id"].to_numpy(),
            "shown": list_lengths(rated_predictions["prediction_ids"]),
        }
    )
    ranked = explode_ranked(rated_predictions, "prediction_ids", keep=["request_id", "model_version"])
    rated = ranked.merge(tied, on=["request_id", "book_id"], how="inner").merge(shown, on="request_id")
    return rated[_RATED_COLUMNS].astype({"book_id": "int64", "rank": "int64", "value": "int64"})


def per_request(rated: pd.DataFrame) -> pd.DataFrame:
    """Rated recommendations summed per request.

    Returns ``request_id``, ``model_version``, ``shown``, ``likes``, ``dislikes`` and
    ``first_like_rank`` (best rank of a liked book; NaN when nothing was liked).
    """
    if rated.empty:
        return pd.DataFrame({name: pd.Series(dtype="float64") for name in _REQUEST_COLUMNS}).astype(
            {
                "request_id": "str",
                "model_version": "str",
                "shown": "int64",
                "likes": "int64",
                "dislikes": "int64",
            }
        )
    liked = rated["value"] > 0
    work = rated.assign(
        likes=liked.astype(np.int64),
        dislikes=(~liked).astype(np.int64),
        like_rank=rated["rank"].where(liked).astype("float64"),
    )
    grouped = work.groupby("request_id", sort=False)
    requests = grouped.agg(
        model_version=("model_version", "first"),
        shown=("shown", "first"),
        likes=("likes", "sum"),
        dislikes=("dislikes", "sum"),
        first_like_rank=("like_rank", "min"),
    )
    return requests.reset_index()[_REQUEST_COLUMNS]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def like_rate(requests: pd.DataFrame) -> float:
    """Precision@K of rated requests: liked books / books shown (unrated ones count as not liked)."""
    return _ratio(requests["likes"].sum(), requests["shown"].sum())


def dislike_rate(requests: pd.DataFrame) -> float:
    """Disliked books / books shown, over rated requests."""
    return _ratio(requests["dislikes"].sum(), requests["shown"].sum())


def hit_rate(requests: pd.DataFrame) -> float:
    """Share of rated requests with at least one liked book."""
    return _ratio((requests["likes"] > 0).sum(), len(requests))


def mean_reciprocal_rank(requests: pd.DataFrame) -> float:
    """Mean over rated requests of 1 / rank of the best-ranked like (0 when none was liked)."""
    reciprocal = (1.0 / requests["first_like_rank"].to_numpy(dtype=np.float64, na_value=np.inf)).sum()
    return _ratio(reciprocal, len(requests))


def feedback_quality(requests: pd.DataFrame) -> FeedbackQuality:
    """Every feedback rate of :func:`per_request`'s output at once."""
    return FeedbackQuality(
        rated_requests=len(requests),
        likes=int(requests["likes"].sum()),
        dislikes=int(requests["dislikes"].sum()),
        like_rate=like_rate(requests),
        dislike_rate=dislike_rate(requests),
        hit_rate=hit_rate(requests),
        mrr=mean_reciprocal_rank(requests),
    )


def feedback_quality_by_version(requests: pd.DataFrame) -> pd.DataFrame:
    """:func:`feedback_quality` per model version, one row each, versions in sorted order."""
    rows = [
        {"model_version": version, **feedback_quality(group).__dict__}
        for version, group in requests.groupby("model_version", sort=True)
    ]
    columns = ["model_version", *FeedbackQuality.__dataclass_fields__]
    return pd.DataFrame(rows, columns=columns)


def like_rate_by_position(rated: pd.DataFrame, requests: pd.DataFrame) -> pd.DataFrame:
    """Share of rated requests whose book at each rank was liked.

    Returns ``position`` (1-based rank), ``rated_requests`` (rated requests that showed that
    many books) and ``like_rate``; positions 1 to the most books any rated request showed.
    """
    if requests.empty:
        return pd.DataFrame({"position": [], "rated_requests": [], "like_rate": []}).astype(
            {"position": "int64", "rated_requests": "int64", "like_rate": "float64"}
        )
    positions = np.arange(1, int(requests["shown"].max()) + 1)
    shown = np.sort(requests["shown"].to_numpy(dtype=np.int64))
    # Requests that showed at least p books: those not among the ones that showed fewer.
    reaching = len(shown) - np.searchsorted(shown, positions, side="left")
    liked_ranks = rated.loc[rated["value"] > 0, "rank"].to_numpy(dtype=np.int64)
    likes = np.bincount(liked_ranks, minlength=len(positions) + 1)[1 : len(positions) + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(reaching > 0, likes / np.maximum(reaching, 1), np.nan)
    return pd.DataFrame({"position": positions, "rated_requests": reaching, "like_rate": rates})


def favourite_recall(predictions: pd.DataFrame, k: int) -> tuple[FavouriteRecall, pd.DataFrame]:
    """Recall@K of later favourites: how often a book a reader added had been recommended first.

    A reader's *added favourite* is a book in the ``item_ids`` of one of their predictions that
    none of their earlier predictions had as input, when that reader had an earlier prediction
    (the first request's books were not *added later*). It is a *hit* when an earlier
    prediction to the same reader showed it in its top ``k``.

    ``predictions``: ``userid``, ``ts``, ``model_version``, ``item_ids`` and ``prediction_ids``
    (lists), in any order. Returns the total over every version, and per version (columns
    ``model_version``, ``added``, ``hits``, ``recall``; one row per version in ``predictions``)
    the favourites added after that version served the reader and the hits among that
    version's recommendations; recall is NaN where nothing was added.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ordered = predictions.sort_values("ts", kind="stable").reset_index(drop=True)
    # Integer codes instead of text keep the groupbys and merges below fast on big samples.
    user_codes, _ = pd.factorize(ordered["userid"])
    version_codes, versions = pd.factorize(ordered["model_version"].astype("str"), sort=True)
    codes = pd.DataFrame(
        {"user": user_codes, "seq": np.arange(len(ordered)), "version": version_codes, "all": 0}
    )
    inputs = explode_ranked(codes.assign(ids=ordered["item_ids"]), "ids", keep=["user", "seq"])
    added = inputs.groupby(["user", "book_id"], sort=False)["seq"].min().rename("added_seq").reset_index()
    shown = explode_ranked(
        codes.assign(ids=ordered["prediction_ids"]), "ids", keep=["user", "seq", "version", "all"]
    )
    shown = shown.loc[shown["rank"] <= k]

    def judge(scope: str, n_scopes: int) -> tuple[np.ndarray, np.ndarray]:
        """Added favourites and hits per scope code: ``(n_scopes,)`` int64 each."""
        first_seen = codes.groupby(["user", scope], sort=False)["seq"].min().rename("first_seq").reset_index()
        # A favourite counts for a scope once that scope had served the reader before it was
        # added (so after the reader's first request, which no scope's first_seq precedes).
        eligible = added.merge(first_seen, on="user")
        eligible = eligible.loc[eligible["added_seq"] > eligible["first_seq"]]
        first_shown = shown.groupby(["user", scope, "book_id"], sort=False)["seq"].min().rename("shown_seq")
        judged = eligible.merge(first_shown.reset_index(), on=["user", scope, "book_id"], how="left")
        scope_codes = judged[scope].to_numpy(dtype=np.int64)
        hit = (judged["shown_seq"] < judged["added_seq"]).to_numpy()
        return np.bincount(scope_codes, minlength=n_scopes), np.bincount(scope_codes[hit], minlength=n_scopes)

    added_all, hits_all = judge("all", 1)
    added_by, hits_by = judge("version", len(versions))
    with np.errstate(invalid="ignore", divide="ignore"):
        recall_by = np.where(added_by > 0, hits_by / np.maximum(added_by, 1), np.nan)
    total = FavouriteRecall(int(added_all[0]), int(hits_all[0]), _ratio(hits_all[0], added_all[0]))
    by_version = pd.DataFrame(
        {
            "model_version": pd.Series(list(versions), dtype="str"),
            "added": added_by.astype(np.int64),
            "hits": hits_by.astype(np.int64),
            "recall": recall_by.astype(np.float64),
        }
    )
    return total, by_version
