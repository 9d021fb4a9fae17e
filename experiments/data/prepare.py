"""The data stage end to end: read, validate, build, split, (merge feedback), version, save."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from experiments.data.build import (
    DATA_FORMAT,
    add_popularity,
    build_book_tags,
    build_catalogue,
    build_interactions,
    data_version,
)
from experiments.data.feedback import FeedbackLikes, FeedbackSource, feedback_likes, merge_feedback
from experiments.data.source import read_source
from experiments.data.split import DEFAULT_HELDOUT_MIN_LIKES, DEFAULT_HELDOUT_USERS, choose_heldout_users
from experiments.data.validate import validate
from readcrumbs.blobs import open_blob_store
from readcrumbs.dataset import Dataset, dataset_exists, load_dataset, save_dataset
from readcrumbs.settings import Settings

log = logging.getLogger(__name__)

LICENCE = "goodbooks-10k by Zygmunt Zając, CC BY-SA 4.0 (github.com/zygmuntz/goodbooks-10k)"


def prepare_dataset(
    settings: Settings,
    *,
    with_feedback: bool = False,
    events: FeedbackSource | None = None,
    heldout_users: int = DEFAULT_HELDOUT_USERS,
    heldout_min_likes: int = DEFAULT_HELDOUT_MIN_LIKES,
) -> Dataset:
    """Build the dataset of ``settings.data_source`` and store it under ``data/<version>/``.

    Parameters
    ----------
    settings : where the source is (``data_source``), where the artifact store is
        (``resolved_registry_url``), ``like_threshold`` and ``seed``.
    with_feedback : merge the event store's likes and dislikes into the interactions.
    events : the event store to read feedback from; by default the one of
        ``settings.resolved_events_url``.
    heldout_users, heldout_min_likes : how many users to hold out for evaluation, drawn among
        those with at least that many likes.

    When the artifact store already holds this version, that stored dataset is returned.
    Raises :class:`~readcrumbs.errors.DataError` (or its :class:`DataSourceUnavailable`).
    """
    started = time.perf_counter()
    raw = read_source(settings.data_source, settings.home / "downloads")
    tables = validate(raw)
    interactions = build_interactions(tables.ratings, settings.like_threshold)
    signal = build_interactions(tables.ratings, settings.train_threshold)
    catalogue = build_catalogue(tables.books, tables.book_tags, tables.tags)
    book_tags = build_book_tags(tables.book_tags)
    # Drawn before feedback is merged, so new feedback never changes who is held out.
    heldout, split_warnings = choose_heldout_users(
        interactions, heldout_users, heldout_min_likes, settings.seed
    )
    warnings = tables.warnings + split_warnings
    feedback = FeedbackLikes(likes=interactions.iloc[:0], user_ids={}, records=0)
    if with_feedback:
        feedback = _read_feedback(
            settings, events, int(tables.ratings["user_id"].max()) + 1, catalogue["book_id"]
        )
        interactions = merge_feedback(interactions, feedback)
        signal = merge_feedback(signal, feedback)
        warnings += feedback.warnings
    parameters = {
        "like_threshold": settings.like_threshold,
        "train_threshold": settings.train_threshold,
        "seed": settings.seed,
        "heldout_users": heldout_users,
        "heldout_min_likes": heldout_min_likes,
    }
    version = data_version(
        interactions, catalogue, heldout, parameters, training_signal=signal, book_tags=book_tags
    )
    log.info("data version %s built in %.1f s", version, time.perf_counter() - started)

    store = open_blob_store(settings.resolved_registry_url)
    if dataset_exists(store, version):
        log.info("data version %s is already stored in %s", version, store.url)
        return load_dataset(store, version)
    add_popularity(catalogue, interactions, heldout)
    info: dict[str, Any] = {
        "data_version": version,
        "format": DATA_FORMAT,
        "source": raw.source,
        "licence": LICENCE,
        "parameters": parameters,
        "counts": {
            "ratings": len(tables.ratings),
            "rating_users": int(tables.ratings["user_id"].nunique()),
            "users": int(interactions["user_id"].nunique()),
            "books": len(catalogue),
            "likes": len(interactions),
            "training_signal": len(signal),
            "heldout_users": len(heldout),
            "book_tags": len(book_tags),
            "feedback_records": feedback.records,
            "feedback_users": len(feedback.user_ids),
            "feedback_likes": len(feedback.likes),
        },
        "warnings": [warning.as_dict() for warning in warnings],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    dataset = Dataset(
        version=version,
        interactions=interactions,
        catalogue=catalogue,
        heldout_users=heldout,
        info=info,
        training_signal=signal,
        book_tags=book_tags,
    )
    save_dataset(store, dataset)
    log.info("data version %s saved to %s/data/%s", version, store.url, version)
    return dataset


def _read_feedback(
    settings: Settings, events: FeedbackSource | None, first_user_id: int, book_ids: Any
) -> FeedbackLikes:
    if events is not None:
        return feedback_likes(events.feedback(), first_user_id, np.asarray(book_ids, dtype=np.int64))
    from readcrumbs.events import open_event_store

    store = open_event_store(settings.resolved_events_url)
    try:
        return feedback_likes(store.feedback(), first_user_id, np.asarray(book_ids, dtype=np.int64))
    finally:
        store.close()
