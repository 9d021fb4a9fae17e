"""ALS hyper-parameters in the two engines' conventions, and the mapping between them.

The served model (:class:`readcrumbs.recommenders.als.ALS`) speaks ``implicit``'s language:
``factors``, ``regularization`` (λ), ``alpha``, ``iterations``, ``seed``. Spark MLlib's
``pyspark.ml.recommendation.ALS`` solves the same implicit-feedback problem (Hu, Koren &
Volinsky 2008) with two differences that the mapping has to absorb. For a user with ``n_u``
likes (ratings of 1), item factors ``Y`` and the liked rows ``y``:

==========================  ==================================  ==================================
                            implicit                            Spark MLlib
==========================  ==================================  ==================================
confidence of a like        ``c = alpha``                       ``c = 1 + alpha``
penalty in a user's solve   ``λ I``                             ``regParam · n_u · I`` (ALS-WR)
penalty in a book's solve   ``λ I``                             ``regParam · n_b · I``
==========================  ==================================  ==================================

- ``alpha``: Spark's ``alpha = alpha − 1`` gives every like the same confidence, exactly.
- ``regularization``: Spark weights the penalty by each row's number of likes (ALS-WR, Zhou et
  al. 2008); ``implicit`` does not. No single ``regParam`` matches every row, so the mapping
  matches them on average: ``regParam = λ / m`` where ``m`` is the mean number of likes per
  factor vector that gets solved, ``m = 2 · n_likes / (n_users + n_books)`` (every like appears
  once on each side). The total penalty over all user and book vectors of equal norm is then the
  same in both engines; Spark still shifts it towards heavy readers and popular books.
- ``factors`` ↔ ``rank``, ``iterations`` ↔ ``maxIter`` (one iteration = a user sweep and a book
  sweep in both), ``seed`` ↔ ``seed``. The engines initialise and solve differently (``implicit``
  runs a few conjugate-gradient steps, Spark a Cholesky solve), so equal parameters give close,
  not identical, factors.

A model trained by Spark is served with the ``implicit``-convention parameters of this mapping:
the fold-in then gives a new reader's likes the confidence Spark trained with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from readcrumbs.errors import ConfigError

ALS_PARAM_NAMES = ("factors", "regularization", "alpha", "iterations", "seed")


@dataclass(frozen=True)
class LikeCounts:
    """The size of the training likes as Spark sees them (held-out users excluded).

    ``n_users`` and ``n_books`` count only users and books with at least one like: the others
    get no factor vector from Spark and no penalty.
    """

    n_likes: int
    n_users: int
    n_books: int

    @property
    def likes_per_vector(self) -> float:
        """Mean number of likes per solved factor vector, users and books together."""
        if self.n_likes <= 0 or self.n_users <= 0 or self.n_books <= 0:
            raise ConfigError("no training likes: Spark's regularisation cannot be mapped")
        return 2.0 * self.n_likes / (self.n_users + self.n_books)


@dataclass(frozen=True)
class SparkALSParams:
    """Keyword arguments of ``pyspark.ml.recommendation.ALS`` (Spark's names, snake-cased here)."""

    rank: int
    reg_param: float
    alpha: float
    max_iter: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for a manifest's ``extra``."""
        return asdict(self)

    def estimator_kwargs(self) -> dict[str, Any]:
        """The same values under Spark's own parameter names."""
        return {
            "rank": self.rank,
            "regParam": self.reg_param,
            "alpha": self.alpha,
            "maxIter": self.max_iter,
            "seed": self.seed,
        }


def to_spark(params: Mapping[str, Any], counts: LikeCounts) -> SparkALSParams:
    """Spark's parameters for ``implicit``-convention ALS ``params`` on these training likes.

    ``params`` holds every name of :data:`ALS_PARAM_NAMES`. Raises
    :class:`~readcrumbs.errors.ConfigError` for a missing name, ``alpha < 1`` (Spark's confidence
    ``1 + alpha`` cannot go below 1), a negative ``regularization``, or ``factors`` or
    ``iterations`` below 1.
    """
    missing = [name for name in ALS_PARAM_NAMES if name not in params]
    if missing:
        raise ConfigError(f"ALS parameters lack {missing}; expected {list(ALS_PARAM_NAMES)}")
    factors, iterations = int(params["factors"]), int(params["iterations"])
    regularization, alpha = float(params["regularization"]), float(params["alpha"])
    if factors < 1 or iterations < 1:
        raise ConfigError(f"factors and iterations must be at least 1, got {factors} and {iterations}")
    if regularization < 0:
        raise ConfigError(f"regularization must be non-negative, got {regularization}")
    if alpha < 1:
        raise ConfigError(
            f"alpha={alpha} cannot be trained by Spark: its confidence of a like is 1 + alpha', "
            "so implicit's alpha must be at least 1"
        )
    return SparkALSParams(
        rank=factors,
        reg_param=regularization / counts.likes_per_vector,
        alpha=alpha - 1.0,
        max_iter=iterations,
        seed=int(params["seed"]),
    )


def from_spark(spark: SparkALSParams, counts: LikeCounts) -> dict[str, Any]:
    """The ``implicit``-convention parameters that :func:`to_spark` maps to ``spark``."""
    return {
        "factors": spark.rank,
        "regularization": spark.reg_param * counts.likes_per_vector,
        "alpha": spark.alpha + 1.0,
        "iterations": spark.max_iter,
        "seed": spark.seed,
    }
