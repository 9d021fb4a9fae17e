"""The ALS parameter mapping between implicit and Spark MLlib (no Spark needed)."""

from __future__ import annotations

import pytest

from experiments.spark_params import LikeCounts, SparkALSParams, from_spark, to_spark
from readcrumbs.errors import ConfigError

PARAMS = {"factors": 32, "regularization": 0.5, "alpha": 10.0, "iterations": 7, "seed": 3}
# 900 likes over 100 users and 50 books: 1,800 like-ends over 150 vectors, 12 each.
COUNTS = LikeCounts(n_likes=900, n_users=100, n_books=50)


def test_likes_per_vector_counts_each_like_on_both_sides() -> None:
    assert COUNTS.likes_per_vector == pytest.approx(12.0)


@pytest.mark.parametrize("counts", [LikeCounts(0, 1, 1), LikeCounts(5, 0, 3), LikeCounts(5, 2, 0)])
def test_likes_per_vector_refuses_empty_training_data(counts: LikeCounts) -> None:
    with pytest.raises(ConfigError, match="no training likes"):
        _ = counts.likes_per_vector


def test_to_spark_maps_every_parameter() -> None:
    spark = to_spark(PARAMS, COUNTS)

    assert spark == SparkALSParams(rank=32, reg_param=spark.reg_param, alpha=9.0, max_iter=7, seed=3)
    assert spark.reg_param == pytest.approx(0.5 / 12.0)


def test_same_confidence_for_a_like_in_both_engines() -> None:
    # implicit weighs a like by alpha, Spark by 1 + alpha.
    assert 1.0 + to_spark(PARAMS, COUNTS).alpha == PARAMS["alpha"]


def test_same_total_penalty_over_all_vectors() -> None:
    spark = to_spark(PARAMS, COUNTS)
    # Spark: regParam · (likes of every user + likes of every book); implicit: λ per vector.
    spark_total = spark.reg_param * 2 * COUNTS.n_likes
    implicit_total = PARAMS["regularization"] * (COUNTS.n_users + COUNTS.n_books)

    assert spark_total == pytest.approx(implicit_total)


def test_from_spark_inverts_to_spark() -> None:
    back = from_spark(to_spark(PARAMS, COUNTS), COUNTS)

    assert back == {name: pytest.approx(value) for name, value in PARAMS.items()}


def test_estimator_kwargs_use_spark_names() -> None:
    kwargs = to_spark(PARAMS, COUNTS).estimator_kwargs()

    assert kwargs == {
        "rank": 32,
        "regParam": pytest.approx(0.5 / 12.0),
        "alpha": 9.0,
        "maxIter": 7,
        "seed": 3,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alpha": 0.5}, "alpha=0.5 cannot be trained by Spark"),
        ({"regularization": -0.1}, "regularization must be non-negative"),
        ({"factors": 0}, "factors and iterations must be at least 1"),
        ({"iterations": 0}, "factors and iterations must be at least 1"),
    ],
)
def test_to_spark_refuses_what_spark_cannot_train(change: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        to_spark(PARAMS | change, COUNTS)


def test_to_spark_names_missing_parameters() -> None:
    params = {name: value for name, value in PARAMS.items() if name != "alpha"}

    with pytest.raises(ConfigError, match=r"lack \['alpha'\]"):
        to_spark(params, COUNTS)
