from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from experiments.data import prepare_dataset
from readcrumbs.blobs import open_blob_store
from readcrumbs.dataset import CATALOGUE_COLUMNS, Dataset, dataset_exists, load_dataset
from readcrumbs.errors import DataError, DataSourceUnavailable
from readcrumbs.settings import Settings
from tests.experiments.data.conftest import RATINGS_CSV, WriteGoodbooks
from tests.experiments.data.test_feedback import FakeEvents, record
from tests.experiments.data.test_source import make_zip

SMALL_SPLIT = {"heldout_users": 2, "heldout_min_likes": 5}
SettingsFor = Callable[..., Settings]


def prepare(settings: Settings, **options: Any) -> Dataset:
    """The data stage with a held-out split that fits the tiny dataset unless told otherwise."""
    return prepare_dataset(settings, **(SMALL_SPLIT | options))


def test_prepares_saves_and_returns_the_dataset(goodbooks: WriteGoodbooks, settings_for: SettingsFor) -> None:
    settings = settings_for(goodbooks())

    dataset = prepare(settings)

    store = open_blob_store(settings.resolved_registry_url)
    assert dataset_exists(store, dataset.version)
    assert len(dataset.interactions) == 28  # 4 users x 5 likes + 4 users x 2 likes
    assert set(dataset.heldout_users) <= {1, 2, 3, 4} and len(dataset.heldout_users) == 2
    assert set(dataset.training_users()) == set(range(1, 9)) - set(dataset.heldout_users)
    assert list(dataset.catalogue.columns) == list(CATALOGUE_COLUMNS)
    counts = dataset.info["counts"]
    assert (counts["users"], counts["books"], counts["likes"], counts["heldout_users"]) == (8, 6, 28, 2)
    assert dataset.info["warnings"] == []
    assert "Zygmunt Zając" in dataset.info["licence"]
    assert dataset.info["parameters"] == {
        "like_threshold": 4,
        "train_threshold": 3,
        "seed": 42,
        **SMALL_SPLIT,
    }


def test_training_signal_adds_ratings_at_the_training_threshold_only(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    dataset = prepare(settings_for(goodbooks()))

    assert dataset.training_signal is not None
    signal = set(dataset.training_signal.itertuples(index=False, name=None))
    likes = set(dataset.interactions.itertuples(index=False, name=None))
    # Users 5..8 rated book 4 with 3 stars: training signal, not a like. Users 1..4 gave book 6 two.
    assert signal - likes == {(user, 4) for user in range(5, 9)}
    assert likes <= signal
    assert not any(book == 6 and user <= 4 for user, book in signal)
    assert dataset.info["counts"]["training_signal"] == 32
    training = dataset.training_matrix(dataset.training_users())
    assert training.sum() == sum(1 for user, _ in signal if user not in set(dataset.heldout_users))


def test_train_threshold_is_part_of_the_data_version(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    folder = goodbooks()
    default = prepare(settings_for(folder))
    likes_only = prepare(settings_for(folder).model_copy(update={"train_threshold": 4}))

    assert likes_only.version != default.version
    assert likes_only.training_signal is not None
    pd.testing.assert_frame_equal(likes_only.training_signal, likes_only.interactions)


def test_what_is_saved_reads_back_equal(goodbooks: WriteGoodbooks, settings_for: SettingsFor) -> None:
    settings = settings_for(goodbooks())
    dataset = prepare(settings)

    loaded = load_dataset(open_blob_store(settings.resolved_registry_url), dataset.version)

    pd.testing.assert_frame_equal(loaded.interactions, dataset.interactions)
    pd.testing.assert_frame_equal(loaded.catalogue, dataset.catalogue)
    assert loaded.training_signal is not None and dataset.training_signal is not None
    pd.testing.assert_frame_equal(loaded.training_signal, dataset.training_signal)
    assert np.array_equal(loaded.heldout_users, dataset.heldout_users)
    assert loaded.book_tags is not None and dataset.book_tags is not None
    pd.testing.assert_frame_equal(loaded.book_tags, dataset.book_tags)
    assert loaded.info == json.loads(json.dumps(dataset.info))
    assert loaded.catalogue["genres"].iloc[0] == ["fantasy", "fiction"]


def test_the_book_tags_are_kept_by_book_id_as_a_tag_by_book_count_matrix(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    dataset = prepare(settings_for(goodbooks()))

    assert dataset.book_tags is not None
    assert dataset.book_tags.dtypes.to_dict() == {"book_id": np.int64, "tag_id": np.int64, "count": np.int64}
    assert dataset.book_tags.head(3).values.tolist() == [[1, 0, 500], [1, 1, 300], [1, 2, 200]]
    assert dataset.info["counts"]["book_tags"] == len(dataset.book_tags)
    counts = dataset.tag_counts()
    assert counts is not None and counts.shape == (len(set(dataset.book_tags["tag_id"])), 6)
    # Tag 2 (the third row) is on book 1 (200 readers) and book 2 (40): columns in catalogue order.
    assert counts[2].toarray().ravel().tolist() == [200, 40, 0, 0, 0, 0]
    assert counts.sum() == dataset.book_tags["count"].sum()


def test_a_dataset_without_book_tags_has_no_tag_counts(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    dataset = prepare(settings_for(goodbooks()))
    dataset.book_tags = None

    assert dataset.tag_counts() is None


def test_popularity_leaves_out_the_heldout_users(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    dataset = prepare(settings_for(goodbooks()))

    training = dataset.interactions[~dataset.interactions["user_id"].isin(dataset.heldout_users)]
    expected = training["book_id"].value_counts().reindex(dataset.book_ids, fill_value=0)
    assert dataset.catalogue["popularity"].tolist() == expected.tolist()


def test_the_same_source_gives_the_same_version_and_reuses_it(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor, tmp_path: Path
) -> None:
    first = prepare(settings_for(goodbooks()))
    shuffled = "\n".join([RATINGS_CSV.splitlines()[0], *reversed(RATINGS_CSV.splitlines()[1:])]) + "\n"
    zipped = make_zip(tmp_path / "release.zip", folder="goodbooks-10k/")

    from_gz = prepare(settings_for(goodbooks(gz=True, ratings=shuffled)))
    from_zip = prepare(settings_for(zipped))

    assert first.version == from_gz.version == from_zip.version
    # The stored dataset was reused, not written again.
    assert from_gz.info["created_at"] == first.info["created_at"]
    assert from_gz.info["source"] == first.info["source"]


def test_settings_that_matter_change_the_version(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    folder = goodbooks()
    base = prepare(settings_for(folder))

    stricter = prepare(settings_for(folder, like_threshold=5))
    other_split = prepare(settings_for(folder), heldout_users=1, heldout_min_likes=5)

    assert len({base.version, stricter.version, other_split.version}) == 3
    assert len(stricter.interactions) < len(base.interactions)


def test_too_few_eligible_users_are_held_out_with_a_warning(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    dataset = prepare_dataset(settings_for(goodbooks()))  # defaults: 2,000 users with 10 likes

    assert len(dataset.heldout_users) == 1
    assert [warning["column"] for warning in dataset.info["warnings"]] == ["user_id"]


def test_source_warnings_are_counted_in_data_json(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    settings = settings_for(goodbooks(ratings=RATINGS_CSV + "1,1,1\n"))
    dataset = prepare(settings)

    stored = json.loads(
        open_blob_store(settings.resolved_registry_url).read(f"data/{dataset.version}/data.json")
    )
    assert [(warning["file"], warning["count"]) for warning in stored["warnings"]] == [("ratings.csv", 1)]


def test_feedback_adds_likes_as_new_users_and_changes_the_version(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    settings = settings_for(goodbooks())
    plain = prepare(settings)
    events = FakeEvents(
        [record("reader-b", 1, 1, 1), record("reader-a", 2, 1, 2), record("reader-a", 3, -1, 3)]
    )

    merged = prepare(settings, with_feedback=True, events=events)
    events.records.append(record("reader-a", 2, -1, 4))
    changed = prepare(settings, with_feedback=True, events=events)

    assert merged.version != plain.version != changed.version != merged.version
    added = merged.interactions[merged.interactions["user_id"] > 8]
    assert added.values.tolist() == [[9, 2], [10, 1]]  # reader-a → 9, reader-b → 10
    assert np.array_equal(merged.heldout_users, plain.heldout_users)  # feedback never moves the split
    assert merged.info["counts"]["feedback_likes"] == 2 and merged.info["counts"]["feedback_users"] == 2
    assert len(changed.interactions) == len(plain.interactions) + 1


def test_feedback_is_read_from_the_configured_event_store(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import readcrumbs.events

    opened: list[str] = []

    class Store(FakeEvents):
        closed = False

        def close(self) -> None:
            type(self).closed = True

    def open_event_store(url: str) -> Store:
        opened.append(url)
        return Store([record("reader", 1, 1, 1)])

    monkeypatch.setattr(readcrumbs.events, "open_event_store", open_event_store, raising=False)
    settings = settings_for(goodbooks())

    dataset = prepare(settings, with_feedback=True)

    assert opened == [settings.resolved_events_url] and Store.closed
    assert dataset.info["counts"]["feedback_likes"] == 1


def test_bad_data_raises_a_data_error_and_saves_nothing(
    goodbooks: WriteGoodbooks, settings_for: SettingsFor
) -> None:
    settings = settings_for(goodbooks(ratings=RATINGS_CSV + "1,1,9\n"))

    with pytest.raises(DataError, match=r"outside 1\.\.5"):
        prepare(settings)

    assert open_blob_store(settings.resolved_registry_url).list("data/") == []


def test_a_missing_source_is_unavailable(settings_for: SettingsFor, tmp_path: Path) -> None:
    with pytest.raises(DataSourceUnavailable, match="READCRUMBS_DATA_SOURCE"):
        prepare(settings_for(tmp_path / "absent"))
