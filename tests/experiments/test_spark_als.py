"""The Spark engine: what needs no Spark, then one small local Spark job and the equivalence check.

Spark takes seconds to start, so every Spark test shares one session and one training run (the
``train-spark`` command on a tiny stored dataset). Those tests are skipped when pyspark is not
installed (``make install-spark``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from experiments import spark_als
from experiments.evaluate import EvaluationSet, evaluate, heldout_evaluation_set
from experiments.spark_als import (
    INSTALL_HINT,
    SparkSettings,
    item_factors_matrix,
    launched_by_spark_submit,
    parquet_uri,
    spark_conf,
    spark_session,
    train_als,
    training_likes,
)
from readcrumbs.blobs.local import FolderBlobStore
from readcrumbs.dataset import Dataset, save_dataset
from readcrumbs.errors import ConfigError, DataError
from readcrumbs.model_bundle import load_bundle
from readcrumbs.recommenders.als import ALS
from readcrumbs.recommenders.popularity import Popularity
from readcrumbs.registry import Manifest, Registry
from readcrumbs.settings import Settings

PARAMS: dict[str, Any] = {"factors": 16, "regularization": 0.05, "alpha": 10.0, "iterations": 8, "seed": 7}
N_GENRES, BOOKS_PER_GENRE = 10, 12
# Two books after the genre books: one nobody likes, one liked only by held-out readers.
UNLIKED_BOOK, HELDOUT_ONLY_BOOK = N_GENRES * BOOKS_PER_GENRE, N_GENRES * BOOKS_PER_GENRE + 1


def tiny_dataset(seed: int = 0, n_users: int = 400, n_heldout: int = 80) -> Dataset:
    """Readers who each like about 60 % of the books of one or two genres, plus two random books.

    Ids are sparse and shifted (user 10, 13, …; book 1000, 1007, …) so any confusion of id and
    index shows. The planted genres give a good model a recall far above popularity's.
    """
    rng = np.random.default_rng(seed)
    n_genre_books = N_GENRES * BOOKS_PER_GENRE
    pairs: list[tuple[int, int]] = []
    for user in range(n_users):
        for genre in rng.choice(N_GENRES, size=rng.integers(1, 3), replace=False):
            books = np.arange(genre * BOOKS_PER_GENRE, (genre + 1) * BOOKS_PER_GENRE)
            pairs += [(user, int(book)) for book in books[rng.random(BOOKS_PER_GENRE) < 0.6]]
        pairs += [(user, int(book)) for book in rng.choice(n_genre_books, size=2, replace=False)]
    likes = pd.DataFrame(pairs, columns=["user", "book"]).drop_duplicates()
    user_ids = 10 + 3 * np.arange(n_users, dtype=np.int64)
    book_ids = 1000 + 7 * np.arange(n_genre_books + 2, dtype=np.int64)
    heldout = user_ids[:n_heldout]
    likes = pd.concat([likes, pd.DataFrame({"user": np.arange(5), "book": HELDOUT_ONLY_BOOK})])
    interactions = pd.DataFrame(
        {"user_id": user_ids[likes["user"].to_numpy()], "book_id": book_ids[likes["book"].to_numpy()]}
    ).sort_values(["user_id", "book_id"], ignore_index=True)
    popularity = interactions.loc[~interactions["user_id"].isin(heldout), "book_id"].value_counts()
    catalogue = pd.DataFrame(
        {"book_id": book_ids, "title": [f"Book {index}" for index in range(len(book_ids))]}
    )
    catalogue["popularity"] = catalogue["book_id"].map(popularity).fillna(0).astype(np.int64)
    catalogue["popularity_pct"] = catalogue["popularity"].rank(pct=True) * 100.0
    return Dataset(
        version="tiny-spark", interactions=interactions, catalogue=catalogue, heldout_users=heldout
    )


# -- no Spark needed ---------------------------------------------------------------------------


def test_parquet_uri_of_a_folder_store_is_an_absolute_file_uri(tmp_path: Path) -> None:
    uri = parquet_uri(f"file://{tmp_path}/store", "data/v1/interactions.parquet")

    assert uri == f"file://{tmp_path.resolve()}/store/data/v1/interactions.parquet"


def test_parquet_uri_of_an_s3_store_goes_through_s3a() -> None:
    uri = parquet_uri("s3://bucket/some/prefix/", "data/v1/interactions.parquet")

    assert uri == "s3a://bucket/some/prefix/data/v1/interactions.parquet"


def test_parquet_uri_refuses_other_stores() -> None:
    with pytest.raises(ConfigError, match="Spark cannot read artifact store"):
        parquet_uri("gs://bucket", "data/v1/interactions.parquet")


def test_item_factors_follow_the_index_and_missing_books_get_zeros() -> None:
    factors = item_factors_matrix([(2, [1.0, 2.0]), (0, [3.0, 4.0])], n_books=4, rank=2)

    assert factors.dtype == np.float32
    np.testing.assert_array_equal(factors, [[3.0, 4.0], [0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])


@pytest.mark.parametrize("row", [(4, [1.0, 2.0]), (-1, [1.0, 2.0]), (1, [1.0, 2.0, 3.0])])
def test_item_factors_refuse_an_index_or_rank_spark_should_not_return(row: tuple[int, list[float]]) -> None:
    with pytest.raises(DataError, match="Spark returned factors"):
        item_factors_matrix([row], n_books=4, rank=2)


def test_a_local_session_binds_to_loopback_with_few_partitions() -> None:
    conf = spark_conf("local[*]", "2g")

    assert conf["spark.master"] == "local[*]"
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.driver.memory"] == "2g"
    assert int(conf["spark.sql.shuffle.partitions"]) <= 8


def test_a_cluster_session_leaves_addresses_and_partitions_to_the_cluster() -> None:
    conf = spark_conf("spark://10.0.0.5:7077", "4g")

    assert conf["spark.master"] == "spark://10.0.0.5:7077"
    assert not {"spark.driver.host", "spark.driver.bindAddress", "spark.sql.shuffle.partitions"} & set(conf)


def test_under_spark_submit_the_master_and_driver_are_left_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert not launched_by_spark_submit()
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40123")
    assert launched_by_spark_submit()

    conf = spark_conf(None, "2g")

    assert conf == {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}


def test_a_session_without_pyspark_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # what an import finds when it is absent

    with pytest.raises(ConfigError, match="make install-spark"), spark_session("local[1]"):
        pass
    assert "install-spark" in INSTALL_HINT


def test_the_training_hook_runs_spark_where_the_settings_say(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sessions: list[tuple[str, str]] = []

    @contextmanager
    def recorded_session(master: str, driver_memory: str = "2g") -> Iterator[str]:
        sessions.append((master, driver_memory))
        yield "session"

    def read_likes(spark: str, store_url: str, data_version: str) -> tuple[str, str, str]:
        return spark, store_url, data_version

    def train(spark: str, likes: Any, book_ids: np.ndarray, params: Any) -> tuple[Any, ...]:
        return spark, likes, book_ids.tolist(), params

    monkeypatch.setattr(spark_als, "spark_session", recorded_session)
    monkeypatch.setattr(spark_als, "training_likes", read_likes)
    monkeypatch.setattr(spark_als, "train_als", train)
    monkeypatch.setenv("READCRUMBS_SPARK_MASTER", "spark://10.0.0.5:7077")
    dataset = tiny_dataset(n_users=20, n_heldout=5)
    plain = Settings(_env_file=None, registry_url=f"file://{tmp_path}")

    result: Any = spark_als.fit_als_on_spark(plain, dataset, PARAMS)

    assert sessions == [("spark://10.0.0.5:7077", "2g")]
    assert result == (
        "session",
        ("session", f"file://{tmp_path}", "tiny-spark"),
        dataset.book_ids.tolist(),
        PARAMS,
    )


def test_the_training_hook_reports_bad_spark_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("READCRUMBS_SPARK_MASTER", "  ")
    plain = Settings(_env_file=None, registry_url=f"file://{tmp_path}")

    with pytest.raises(ConfigError, match="invalid settings: spark_master"):
        spark_als.fit_als_on_spark(plain, tiny_dataset(n_users=20, n_heldout=5), PARAMS)


def test_settings_read_the_master_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READCRUMBS_SPARK_MASTER", "spark://10.0.0.5:7077")
    monkeypatch.setenv("READCRUMBS_SPARK_DRIVER_MEMORY", "4G")

    settings = SparkSettings(_env_file=None)

    assert (settings.spark_master, settings.spark_driver_memory) == ("spark://10.0.0.5:7077", "4g")


def test_settings_default_to_local_spark_with_a_small_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("READCRUMBS_SPARK_MASTER", raising=False)
    monkeypatch.delenv("READCRUMBS_SPARK_DRIVER_MEMORY", raising=False)

    settings = SparkSettings(_env_file=None)

    assert (settings.spark_master, settings.spark_driver_memory) == ("local[*]", "2g")


def test_the_command_reports_bad_spark_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("READCRUMBS_SPARK_DRIVER_MEMORY", "lots")
    spark_als.get_spark_settings.cache_clear()
    try:
        assert spark_als.main(["--data-version", "v1"]) == 1
    finally:
        spark_als.get_spark_settings.cache_clear()

    error = capsys.readouterr().err
    assert error.startswith("error: invalid settings: spark_driver_memory") and error.count("\n") == 1


@pytest.mark.parametrize(("field", "value"), [("spark_master", " "), ("spark_driver_memory", "two gigs")])
def test_settings_refuse_bad_spark_values(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field.upper()):
        SparkSettings.model_validate({field: value})


# -- one local Spark session for the module ----------------------------------------------------


@dataclass(frozen=True)
class TrainedOnSpark:
    """The module's one Spark training, run through the ``train-spark`` command."""

    settings: SparkSettings
    dataset: Dataset
    evaluation: EvaluationSet
    manifest: Manifest
    registry: Registry


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    with ExitStack() as stack:
        try:
            session = stack.enter_context(spark_session("local[2]", "1g"))
        except ConfigError as exc:  # pyspark without a usable Java
            pytest.skip(str(exc))
        yield session


@pytest.fixture(scope="module")
def trained(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrainedOnSpark]:
    home = tmp_path_factory.mktemp("spark-home")
    settings = SparkSettings(_env_file=None, home=home, registry_url=f"file://{home}/registry")
    dataset = tiny_dataset()
    save_dataset(FolderBlobStore(home / "registry"), dataset)

    @contextmanager
    def shared_session(master: str, driver_memory: str = "2g") -> Iterator[Any]:
        yield spark  # the module's session: the command must not start (or stop) another

    argv = ["--data-version", dataset.version, "--promote", "--master", "local[2]"]
    argv += [f"--param={name}={value}" for name, value in PARAMS.items()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WANDB_MODE", "disabled")
        patch.setattr(spark_als, "get_spark_settings", lambda: settings)
        patch.setattr(spark_als, "spark_session", shared_session)
        assert spark_als.main(argv) == 0
    registry = Registry(FolderBlobStore(home / "registry"))
    manifest = registry.manifest(settings.model_name, registry.versions(settings.model_name)[-1])
    yield TrainedOnSpark(
        settings, dataset, heldout_evaluation_set(dataset, settings.seed), manifest, registry
    )


@pytest.mark.spark
@pytest.mark.slow
def test_train_spark_registers_an_als_version_that_records_the_engine(trained: TrainedOnSpark) -> None:
    manifest = trained.manifest

    assert (manifest.model_type, manifest.engine, manifest.data_version) == ("als", "spark", "tiny-spark")
    assert manifest.params == PARAMS
    assert manifest.split_id == trained.evaluation.split_id
    assert set(manifest.metrics) == {"fav3", "fold80"}
    spark_params = manifest.extra["spark"]["params"]
    assert (spark_params["rank"], spark_params["alpha"], spark_params["max_iter"]) == (16, 9.0, 8)
    assert manifest.extra["spark"]["users"] == 400 - 80
    assert trained.registry.alias(manifest.name) == manifest.version  # --promote with no production yet


@pytest.mark.spark
@pytest.mark.slow
def test_the_same_training_again_is_reused_not_repeated(
    trained: TrainedOnSpark, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Spark trained again")

    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setattr(spark_als, "train_als", no_training)
    run = spark_als.train_and_register(None, trained.settings, trained.dataset.version, PARAMS)  # type: ignore[arg-type]

    assert run.reused and run.manifest.version == trained.manifest.version
    assert trained.registry.versions(trained.manifest.name) == [trained.manifest.version]


@pytest.mark.spark
@pytest.mark.slow
def test_a_spark_version_serves_like_any_als(trained: TrainedOnSpark) -> None:
    bundle = load_bundle(trained.registry, trained.manifest.name, trained.manifest.version)
    favourites = [int(book_id) for book_id in trained.dataset.book_ids[:3]]  # three books of genre 0

    recommendations = bundle.recommend(favourites, k=5)

    assert isinstance(bundle.model, ALS)
    assert bundle.model.item_factors.shape == (len(trained.dataset.book_ids), PARAMS["factors"])
    recommended = [rec.book for rec in recommendations]
    assert len(recommended) == 5 and not set(recommended) & set(favourites)
    genre_zero = set(trained.dataset.book_ids[:BOOKS_PER_GENRE].tolist())
    assert set(recommended) <= genre_zero


@pytest.mark.spark
@pytest.mark.slow
def test_books_without_training_likes_get_zero_factors(trained: TrainedOnSpark) -> None:
    bundle = load_bundle(trained.registry, trained.manifest.name, trained.manifest.version)
    factors = bundle.model.to_arrays()["item_factors"]
    norms = np.linalg.norm(factors, axis=1)

    # The second book is liked by held-out readers only: a factor would mean Spark saw them.
    assert norms[UNLIKED_BOOK] == 0.0 and norms[HELDOUT_ONLY_BOOK] == 0.0
    assert (norms[:UNLIKED_BOOK] > 0).all()
    assert trained.manifest.extra["spark"]["books_without_factors"] == 2


@pytest.mark.spark
@pytest.mark.slow
def test_spark_fold80_recall_is_within_15_percent_of_implicit(trained: TrainedOnSpark) -> None:
    dataset, evaluation = trained.dataset, trained.evaluation
    training = dataset.likes_matrix(dataset.training_users())
    implicit_als = ALS(**PARAMS)
    implicit_als.fit(training)
    popularity = Popularity()
    popularity.fit(training)

    spark_recall = trained.manifest.metrics["fold80"]["recall@20"]
    implicit_recall = evaluate(implicit_als, evaluation)["fold80"]["recall@20"]
    popularity_recall = evaluate(popularity, evaluation)["fold80"]["recall@20"]

    assert abs(spark_recall - implicit_recall) <= 0.15 * implicit_recall
    # Both learnt the genres: being close to implicit is not being close to a popularity list.
    assert spark_recall > 1.5 * popularity_recall


@pytest.mark.spark
@pytest.mark.slow
def test_user_ids_beyond_32_bits_are_refused(spark: Any) -> None:
    likes = spark.createDataFrame([(2**40, 1000), (11, 1000)], "user_id long, book_id long")

    with pytest.raises(DataError, match="renumber users"):
        train_als(spark, likes, np.array([1000], dtype=np.int64), PARAMS)


@pytest.mark.spark
@pytest.mark.slow
def test_likes_of_books_outside_the_catalogue_leave_nothing_to_train(spark: Any) -> None:
    likes = spark.createDataFrame([(10, 5), (11, 6)], "user_id long, book_id long")

    with pytest.raises(DataError, match="no training likes"):
        train_als(spark, likes, np.array([1000, 1007], dtype=np.int64), PARAMS)


@pytest.mark.spark
@pytest.mark.slow
def test_a_missing_data_version_is_a_data_error(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read data version nope"):
        training_likes(spark, f"file://{tmp_path}", "nope")


@pytest.mark.spark
@pytest.mark.slow
def test_the_command_reports_a_missing_data_version(
    trained: TrainedOnSpark, spark: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @contextmanager
    def shared_session(master: str, driver_memory: str = "2g") -> Iterator[Any]:
        yield spark

    monkeypatch.setattr(spark_als, "get_spark_settings", lambda: trained.settings)
    monkeypatch.setattr(spark_als, "spark_session", shared_session)

    assert spark_als.main(["--data-version", "nope"]) == 1
    assert "data/nope/catalogue.parquet" in capsys.readouterr().err
