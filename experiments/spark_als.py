"""Train ALS with Spark MLlib, for likes that outgrow one machine; serve it like any other ALS.

Spark reads the data stage's parquet straight from the artifact store (``file://`` folder or
``s3://`` bucket, read as ``s3a://``), drops the held-out users, fits
``pyspark.ml.recommendation.ALS(implicitPrefs=True)`` and hands back the book factors. They
become the ordinary ALS artifact (``item_factors`` (n_books, n_factors) float32 in catalogue
order, zeros for a book nobody liked), evaluated with :mod:`experiments.evaluate` and registered
with ``engine="spark"`` in the manifest. Serving cannot tell the engines apart.

Spark runs on ``local[*]`` unless ``READCRUMBS_SPARK_MASTER`` names a cluster; the driver binds to
127.0.0.1 in local mode. The driver collects only what evaluation needs (the catalogue, the
held-out users and their likes) and the book factors, never the whole likes table.

    .venv/bin/python -m experiments.spark_als                      # data stage, then Spark
    .venv/bin/python -m experiments.spark_als --data-version 3f2a… --param factors=64 --promote

pyspark is imported only inside functions: the rest of the project never needs it.
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator

from experiments import promotion
from experiments.config import load_config, parse_params
from experiments.evaluate import format_metrics, heldout_evaluation_set
from experiments.registration import evaluate_and_register, registered_before, training_config
from experiments.spark_params import ALS_PARAM_NAMES, LikeCounts, SparkALSParams, to_spark
from experiments.tracking import git_commit, tracked_run
from readcrumbs.blobs import open_blob_store
from readcrumbs.dataset import (
    CATALOGUE_FILE,
    HELDOUT_FILE,
    INTERACTIONS_FILE,
    TRAINING_SIGNAL_FILE,
    Dataset,
    dataset_key,
)
from readcrumbs.errors import ConfigError, DataError, PromotionRefused, ReadCrumbsError
from readcrumbs.recommenders.als import ALS
from readcrumbs.registry import Manifest, Registry, open_registry
from readcrumbs.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

ENGINE = "spark"
APP_NAME = "readcrumbs-als"
# Spark's default of 200 shuffle partitions is made for clusters; on one machine each is a task.
LOCAL_SHUFFLE_PARTITIONS = 4
# Spark's ALS takes 32-bit ids and fails deep inside a job on larger ones: refuse them up front.
MAX_SPARK_ID = 2**31 - 1
INSTALL_HINT = "pyspark is not installed: run `make install-spark` (or pip install -e '.[spark]')"


class SparkSettings(Settings):
    """Settings of a Spark training run: the shared ones plus where Spark runs."""

    spark_master: str = Field(
        "local[*]", description="Spark master URL: local[*], spark://host:7077, yarn, k8s://…"
    )
    spark_driver_memory: str = Field("2g", description="Memory of the Spark driver JVM (512m, 2g, …).")

    @field_validator("spark_master")
    @classmethod
    def _check_master(cls, master: str) -> str:
        if not master.strip():
            raise ValueError("READCRUMBS_SPARK_MASTER must not be empty; use local[*] for this machine")
        return master.strip()

    @field_validator("spark_driver_memory")
    @classmethod
    def _check_memory(cls, memory: str) -> str:
        if not re.fullmatch(r"\d+[kmgt]?", memory.strip().lower()):
            raise ValueError(f"READCRUMBS_SPARK_DRIVER_MEMORY must look like 512m or 2g, got {memory!r}")
        return memory.strip().lower()


@lru_cache
def get_spark_settings() -> SparkSettings:
    """The process's settings, read from the environment (and ``.env``) once."""
    return spark_settings_from(None)


def spark_settings_from(settings: Settings | None) -> SparkSettings:
    """``settings`` plus the ``READCRUMBS_SPARK_*`` variables (everything from the environment if None).

    A bad variable is a :class:`~readcrumbs.errors.ConfigError` in one line.
    """
    if isinstance(settings, SparkSettings):
        return settings
    try:
        return SparkSettings(**settings.model_dump()) if settings is not None else SparkSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


# -- the session ------------------------------------------------------------------------------


def is_local(master: str) -> bool:
    """Whether ``master`` runs Spark inside this machine (``local``, ``local[4]``, ``local[*]``)."""
    return master == "local" or master.startswith("local[")


@contextmanager
def _without_pandas_warning() -> Iterator[None]:
    # pyspark warns about pandas ≥ 3 while it loads; this engine never converts to pandas.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        yield


def _import_pyspark() -> None:
    try:
        with _without_pandas_warning():
            importlib.import_module("pyspark.sql")
            importlib.import_module("pyspark.ml.recommendation")
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None


def launched_by_spark_submit() -> bool:
    """Whether this Python process was started by ``spark-submit`` (its JVM is already running)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_conf(master: str | None, driver_memory: str) -> dict[str, str]:
    """The configuration a session gets; local sessions stay on 127.0.0.1 and stay small.

    ``master`` None means ``spark-submit`` already chose the master and sized the driver, so
    neither is set here (the driver's memory cannot change once its JVM runs).
    """
    conf = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
    if master is None:
        return conf
    conf |= {"spark.master": master, "spark.driver.memory": driver_memory}
    if is_local(master):
        conf |= {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.shuffle.partitions": str(LOCAL_SHUFFLE_PARTITIONS),
        }
    return conf


@contextmanager
def spark_session(master: str, driver_memory: str = "2g") -> Iterator[SparkSession]:
    """A Spark session on ``master``, stopped on exit.

    Under ``spark-submit``, its ``--master`` and ``--driver-memory`` win over ``master`` and
    ``driver_memory``. Raises :class:`~readcrumbs.errors.ConfigError` when pyspark is missing or
    Spark (Java, the cluster) does not start.
    """
    _import_pyspark()
    from pyspark.sql import SparkSession

    chosen = None if launched_by_spark_submit() else master
    if chosen is not None and is_local(chosen):
        # Without it Spark picks the address of a network interface for its local services.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(APP_NAME)
    for key, value in spark_conf(chosen, driver_memory).items():
        builder = builder.config(key, value)
    try:
        with _without_pandas_warning():
            session = builder.getOrCreate()
    except Exception as exc:  # py4j raises plain Exceptions (no Java, no cluster)
        raise ConfigError(f"Spark did not start on {master!r}: {exc}") from exc
    session.sparkContext.setLogLevel("WARN")
    try:
        yield session
    finally:
        session.stop()


# -- reading the data stage's parquet --------------------------------------------------------


def parquet_uri(store_url: str, key: str) -> str:
    """Where Spark reads the artifact store's object ``key``.

    ``file:///folder`` → ``file:///folder/key``; ``s3://bucket/prefix`` → ``s3a://bucket/prefix/key``
    (Hadoop's S3 connector). A ``file://`` store on a cluster must be a folder every executor
    sees (a shared mount).
    """
    if store_url.startswith("file://"):
        return f"file://{open_blob_store(store_url).url.removeprefix('file://')}/{key}"
    if store_url.startswith("s3://"):
        return f"s3a://{store_url.removeprefix('s3://').strip('/')}/{key}"
    raise ConfigError(f"Spark cannot read artifact store {store_url!r}; use file://<folder> or s3://<bucket>")


def read_stage_parquet(spark: SparkSession, store_url: str, data_version: str, file: str) -> DataFrame:
    """One parquet file of a data version (``interactions.parquet`` …) as a Spark DataFrame.

    Raises :class:`~readcrumbs.errors.DataError` when Spark cannot read it (no such version, no
    S3A connector, no access).
    """
    try:
        return spark.read.parquet(parquet_uri(store_url, dataset_key(data_version, file)))
    except Exception as exc:  # AnalysisException: missing path; Py4JJavaError: no s3a connector
        raise DataError(f"Spark cannot read data version {data_version} from {store_url}: {exc}") from exc


def training_likes(spark: SparkSession, store_url: str, data_version: str) -> DataFrame:
    """The training signal of every user who is not held out: ``user_id``, ``book_id`` (int64)."""
    signal = dataset_key(data_version, TRAINING_SIGNAL_FILE)
    # Data versions written before the training signal existed train on the likes alone.
    file = TRAINING_SIGNAL_FILE if open_blob_store(store_url).exists(signal) else INTERACTIONS_FILE
    likes = read_stage_parquet(spark, store_url, data_version, file)
    heldout = read_stage_parquet(spark, store_url, data_version, HELDOUT_FILE)
    # Held-out users are the evaluation's readers: training on them would leak the answers.
    return likes.select("user_id", "book_id").join(heldout.select("user_id"), "user_id", "left_anti")


def evaluation_dataset(spark: SparkSession, store_url: str, data_version: str) -> Dataset:
    """The part of a data version that evaluation needs, without the training users' likes.

    Holds the catalogue, the held-out users and only their likes, so the driver's memory does
    not grow with the training data.
    """
    store = open_blob_store(store_url)
    catalogue = pd.read_parquet(io.BytesIO(store.read(dataset_key(data_version, CATALOGUE_FILE))))
    likes = read_stage_parquet(spark, store_url, data_version, INTERACTIONS_FILE)
    heldout = read_stage_parquet(spark, store_url, data_version, HELDOUT_FILE).select("user_id")
    readers = np.array([row["user_id"] for row in heldout.collect()], dtype=np.int64)
    rows = likes.join(heldout, "user_id").select("user_id", "book_id").collect()
    interactions = pd.DataFrame(
        {
            "user_id": np.array([row["user_id"] for row in rows], dtype=np.int64),
            "book_id": np.array([row["book_id"] for row in rows], dtype=np.int64),
        }
    )
    return Dataset(
        version=data_version, interactions=interactions, catalogue=catalogue, heldout_users=readers
    )


# -- training ---------------------------------------------------------------------------------


@dataclass
class SparkTraining:
    """A Spark-trained ALS, ready to evaluate and register, and how it was trained."""

    model: ALS
    spark_params: SparkALSParams
    counts: LikeCounts
    fit_seconds: float
    master: str
    spark_version: str
    books_without_factors: int = 0

    def manifest_extra(self) -> dict[str, Any]:
        """What a manifest's ``extra`` records about the Spark run."""
        return {
            "spark": {
                "params": self.spark_params.as_dict(),
                "likes": self.counts.n_likes,
                "users": self.counts.n_users,
                "books_with_likes": self.counts.n_books,
                "books_without_factors": self.books_without_factors,
                "fit_seconds": round(self.fit_seconds, 3),
                "master": self.master,
                "spark_version": self.spark_version,
            }
        }


def item_factors_matrix(rows: Iterable[tuple[int, Sequence[float]]], n_books: int, rank: int) -> np.ndarray:
    """Spark's ``itemFactors`` rows (book index, factors) as (n_books, rank) float32.

    A book Spark has no factors for (nobody in training liked it) keeps a row of zeros: it
    scores 0 for every reader, as ``implicit`` scores a book without likes.
    """
    factors = np.zeros((n_books, rank), dtype=np.float32)
    for index, values in rows:
        if not 0 <= index < n_books or len(values) != rank:
            raise DataError(
                f"Spark returned factors for book index {index} (rank {len(values)}); expected "
                f"an index below {n_books} and rank {rank}"
            )
        factors[index] = values
    return factors


def count_likes(indexed: DataFrame) -> LikeCounts:
    """Counts of the indexed likes; refuses user ids Spark's ALS cannot hold (32-bit)."""
    from pyspark.sql import functions as sf

    summary = indexed.agg(
        sf.count(sf.lit(1)).alias("likes"),
        sf.countDistinct("user_id").alias("users"),
        sf.countDistinct("book_index").alias("books"),
        sf.min("user_id").alias("min_user"),
        sf.max("user_id").alias("max_user"),
    ).collect()[0]
    if summary["likes"] == 0:
        raise DataError("no training likes: every like belongs to a held-out user or an unknown book")
    if summary["min_user"] < 0 or summary["max_user"] > MAX_SPARK_ID:
        raise DataError(
            f"user_ids range over [{summary['min_user']}, {summary['max_user']}]; Spark's ALS needs "
            f"them within [0, {MAX_SPARK_ID}]: renumber users in the data stage"
        )
    return LikeCounts(n_likes=summary["likes"], n_users=summary["users"], n_books=summary["books"])


def train_als(
    spark: SparkSession, likes: DataFrame, book_ids: np.ndarray, params: Mapping[str, Any]
) -> SparkTraining:
    """Fit ALS on ``likes`` with Spark and export it as the servable :class:`ALS`.

    ``likes``: DataFrame of ``user_id``, ``book_id`` (one row per like, held-out users already
    removed); ``book_ids``: (n_books,) int64, the catalogue's index → book_id; ``params``: the
    ``implicit``-convention ALS parameters (see :mod:`experiments.spark_params`). Likes of books
    outside the catalogue are ignored. Raises :class:`~readcrumbs.errors.DataError` when no like
    is left or user_ids do not fit Spark's 32-bit ids, :class:`~readcrumbs.errors.ConfigError`
    for parameters Spark cannot take.
    """
    from pyspark.ml import recommendation as mllib
    from pyspark.sql import functions as sf

    als_params = {name: params[name] for name in ALS_PARAM_NAMES if name in params}
    catalogue = spark.createDataFrame(
        [(int(book_id), index) for index, book_id in enumerate(book_ids)], "book_id long, book_index int"
    )
    # Spark's item ids are the catalogue indices, so its factors come back in serving order.
    indexed = likes.join(sf.broadcast(catalogue), "book_id").select(
        sf.col("user_id"), sf.col("book_index"), sf.lit(1.0).cast("float").alias("like")
    )
    indexed = indexed.persist()  # read once, used by the counts and by every ALS sweep
    try:
        counts = count_likes(indexed)
        spark_params = to_spark(als_params, counts)
        blocks = max(1, spark.sparkContext.defaultParallelism)
        estimator = mllib.ALS(
            implicitPrefs=True,
            userCol="user_id",
            itemCol="book_index",
            ratingCol="like",
            coldStartStrategy="drop",
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            **spark_params.estimator_kwargs(),
        )
        started = time.perf_counter()
        fitted = estimator.fit(indexed.withColumn("user_id", sf.col("user_id").cast("int")))
        rows = [(int(row["id"]), list(row["features"])) for row in fitted.itemFactors.collect()]
        fit_seconds = time.perf_counter() - started
    finally:
        indexed.unpersist()
    item_factors = item_factors_matrix(rows, len(book_ids), spark_params.rank)
    model = ALS.from_arrays({"item_factors": item_factors}, als_params)
    return SparkTraining(
        model=model,
        spark_params=spark_params,
        counts=counts,
        fit_seconds=fit_seconds,
        master=str(spark.sparkContext.master),
        spark_version=spark.version,
        books_without_factors=len(book_ids) - len(rows),
    )


# -- the run: train, evaluate, track, register -----------------------------------------------


def fit_als_on_spark(settings: Settings, dataset: Dataset, params: Mapping[str, Any]) -> SparkTraining:
    """Fit ALS on a stored ``dataset``'s training likes with Spark, in a session of its own.

    The hook for a training command that already holds the dataset (``--engine spark``): the
    likes are read from the artifact store by Spark, not from ``dataset``, which must be the
    stored version (the data stage stores it). The master and driver memory come from
    ``settings`` when it is a :class:`SparkSettings`, else from ``READCRUMBS_SPARK_*``.
    """
    spark_settings = spark_settings_from(settings)
    store_url = settings.resolved_registry_url
    with spark_session(spark_settings.spark_master, spark_settings.spark_driver_memory) as spark:
        return train_als(spark, training_likes(spark, store_url, dataset.version), dataset.book_ids, params)


@dataclass(frozen=True)
class SparkRun:
    """What one ``train-spark`` run produced; ``training`` is None when an equal one was reused."""

    manifest: Manifest
    training: SparkTraining | None
    promoted: bool

    @property
    def reused(self) -> bool:
        return self.training is None


def train_and_register(
    spark: SparkSession,
    settings: Settings,
    data_version: str,
    params: Mapping[str, Any],
    *,
    promote: bool = False,
) -> SparkRun:
    """Train on ``data_version`` of the artifact store, evaluate, track in W&B, register (engine spark).

    A training with the same parameters, data and engine already registered is reused, not
    repeated. ``promote`` then moves ``production`` to the version if it passes the registry's
    gate; a refusal is logged and leaves ``promoted`` False.
    """
    registry = open_registry(settings)
    full_params = ALS(**params).params
    known = registered_before(registry, settings, ALS.model_type, full_params, data_version, ENGINE)
    training: SparkTraining | None = None
    if known is not None:
        log.info("v%d already has these parameters, data and engine; not training again", known.version)
        manifest = known
    else:
        manifest, training = _train_evaluate_register(spark, settings, registry, data_version, full_params)
    promoted = False
    if promote:
        try:
            promotion.promote(settings, registry, manifest.version)
            promoted = True
        except PromotionRefused as exc:
            log.warning("not promoted: %s", exc)
    return SparkRun(manifest=manifest, training=training, promoted=promoted)


def _train_evaluate_register(
    spark: SparkSession, settings: Settings, registry: Registry, data_version: str, params: dict[str, Any]
) -> tuple[Manifest, SparkTraining]:
    store_url = settings.resolved_registry_url
    dataset = evaluation_dataset(spark, store_url, data_version)
    evaluation = heldout_evaluation_set(dataset, settings.seed)
    config = training_config(ALS.model_type, params, ENGINE, data_version, evaluation.split_id, git_commit())
    name = f"{ALS.model_type}-{ENGINE}-{data_version}"
    with tracked_run(settings, job_type="train", name=name, config=config) as run:
        training = train_als(spark, training_likes(spark, store_url, data_version), dataset.book_ids, params)
        manifest, _ = evaluate_and_register(
            settings,
            registry,
            run,
            training.model,
            dataset.catalogue,
            evaluation,
            config,
            fit_seconds=training.fit_seconds,
            extra=training.manifest_extra(),
        )
    return manifest, training


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.spark_als",
        description="Train ALS with Spark MLlib, evaluate it, track it and register it (engine=spark).",
    )
    parser.add_argument(
        "--data-version", help="a data version already in the artifact store (default: run the data stage)"
    )
    parser.add_argument("--master", help="Spark master URL (default: READCRUMBS_SPARK_MASTER, else local[*])")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override an ALS parameter of the model config (factors, regularization, alpha, iterations)",
    )
    parser.add_argument("--config", type=Path, help="model config file (default experiments/models.toml)")
    parser.add_argument("--promote", action="store_true", help="promote to production if it passes the gate")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``train-spark`` command; returns the process's exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines are connection chatter
    args = _parse_args(argv)
    try:
        settings = get_spark_settings()
        params = load_config(args.config).params_of(ALS.model_type, parse_params(args.param))
        data_version = args.data_version
        if data_version is None:
            from experiments.data import prepare_dataset

            data_version = prepare_dataset(settings).version
        with spark_session(args.master or settings.spark_master, settings.spark_driver_memory) as spark:
            run = train_and_register(spark, settings, data_version, params, promote=args.promote)
    except ReadCrumbsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    manifest = run.manifest
    print(format_metrics({f"als (spark) v{manifest.version}": manifest.metrics}))
    state = "reused" if run.reused else "registered"
    where = f"als, engine {manifest.engine}, data {manifest.data_version}"
    print(
        f"{state} {manifest.name} v{manifest.version} ({where})"
        + (", now production" if run.promoted else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
