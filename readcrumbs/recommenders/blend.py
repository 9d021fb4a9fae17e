"""A blend: several fitted models whose per-reader normalised scores are added with fixed weights.

Each part's scores for one reader are divided by their root mean square over the catalogue
before weighting, so parts on different scales (EASE weights, cosine sums, ALS dot products)
count as much as their weight says, whatever the number of favourites. A per-reader shift
(e.g. subtracting the mean, as a z-score would) changes no ranking, so only the scale is used.
The weights are fitted on the validation split (``experiments.tune``'s blend search), never on
the held-out readers. This is the classic linear score blend of the Netflix-prize ensembles
(Töscher, Jahrer & Bell 2009), with per-reader normalisation so one set of weights serves
readers with 3 favourites and with 300.

**Two regimes by the number of favourites** (optional). A short list and a long one want
different models: on the validation split, 3 favourites are served best by a strongly shrunk
EASE, 80 % of a reader's likes by EDLAE (experiments/README.md). With ``long_from`` set, a reader
with at least that many favourites (books with a positive signal) is scored with each part's
``long_weight``, anyone else with its ``weight``; a part whose weight is 0 in a regime is not
scored there at all. This is a *switching* hybrid of two weighted hybrids (Burke 2002, "Hybrid
recommender systems: survey and experiments"), switched on the one thing every request shows.

**Within reach** (optional). With ``within_reach`` true, only the books the reader's item-item
parts score (not zero: about 750 books for 3 favourites) get the other parts' scores; every
other book keeps the item-item score, zero. A part that scores every book (ALS) then re-ranks
the item-item parts' books: for a short list it reads 750 books' factors instead of 10,000, and
each part's scale stays its root mean square over the whole catalogue (ALS's from ``YᵀY``,
without scoring every book). On the validation split no book outside that reach was among any
reader's 20 best in the blend, so the rankings and figures are the same (experiments/README.md),
and serving ranks among a few hundred books instead of 10,000. Each regime needs an item-item
part.

Params: ``parts``, a list of ``{"model_type": str, "weight": float, "params": {...}}`` (plus
``"long_weight": float`` each when ``long_from`` is given), ``long_from``, an int ≥ 1 or
absent, and ``within_reach``, a bool (absent: false). The artifact holds every part's arrays,
each name prefixed ``part<i>.``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from readcrumbs.recommenders.als import ALS
from readcrumbs.recommenders.base import Recommender, reader_key
from readcrumbs.recommenders.like_share import LikeShare

if TYPE_CHECKING:
    import scipy.sparse as sp

    from readcrumbs.recommenders.side_information import BookTags

PREFIX = "part{}."
# Without parts given: EASE and ALS at equal weights, each with its own defaults. make train's
# parts and weights (chosen on validation) are [models.blend] of experiments/models.toml.
DEFAULT_PARTS: tuple[dict[str, Any], ...] = (
    {"model_type": "ease", "weight": 1.0},
    {"model_type": "als", "weight": 1.0},
)
# Below this root mean square a part has nothing to say about the reader (no favourite it knows).
MIN_SCALE = 1e-12
# Each part that scored a reader, with the factor (its weight / its scale) its scores entered by.
Factors = list[tuple[np.float32, Recommender]]


def part_specs(parts: Sequence[Mapping[str, Any]], long_from: int | None = None) -> list[dict[str, Any]]:
    """Checked, normalised part descriptions: model_type, weight (float), params (dict) and, with
    ``long_from``, long_weight (float, the weight by default)."""
    from readcrumbs.recommenders import MODEL_TYPES

    specs: list[dict[str, Any]] = []
    for part in parts:
        model_type = part.get("model_type")
        if model_type not in MODEL_TYPES or model_type == Blend.model_type:
            raise TypeError(f"a blend part needs a known, non-blend model_type; got {model_type!r}")
        unknown = set(part) - {"model_type", "weight", "long_weight", "params"}
        if unknown:
            raise TypeError(f"unknown keys in a blend part: {sorted(unknown)}")
        spec: dict[str, Any] = {"model_type": str(model_type), "weight": float(part.get("weight", 1.0))}
        if long_from is not None:
            spec["long_weight"] = float(part.get("long_weight", spec["weight"]))
        elif "long_weight" in part:
            raise TypeError("a part's long_weight needs the blend's long_from")
        specs.append({**spec, "params": dict(part.get("params", {}))})
    if not specs:
        raise TypeError("a blend needs at least one part")
    for key in ("weight", "long_weight") if long_from is not None else ("weight",):
        if not any(spec[key] for spec in specs):
            raise TypeError(f"a blend needs a part with a non-zero {key}")
    return specs


def reader_scales(scores: np.ndarray) -> np.ndarray:
    """Root mean square of each row of ``scores`` (n_readers, n_books): (n_readers, 1) float32, ≥ 1e-12."""
    return np.array([[reader_scale(row)] for row in scores], dtype=np.float32).reshape(-1, 1)


def reader_scale(scores: np.ndarray) -> np.float32:
    """Root mean square of one reader's ``scores`` (n_books,), at least 1e-12, as float32."""
    return scale_of(square_sum(scores), len(scores))


def square_sum(scores: np.ndarray) -> float:
    """Σ scores² of one reader's ``scores`` (n_books,), summed in float64."""
    wide = scores.astype(np.float64)  # a float32 sum of 10,000 squares would lose digits
    return float(np.dot(wide, wide))


def scale_of(square_sum: float, n_books: int) -> np.float32:
    """The root mean square of ``n_books`` scores whose squares sum to ``square_sum``, at least
    1e-12, as float32."""
    return np.float32(max(np.sqrt(square_sum / max(n_books, 1)), MIN_SCALE))


# A reader of no books: what ``reaches_every_book`` asks a part (read-only, shared).
_NO_BOOKS = np.zeros(0, dtype=np.int64)
_NO_BOOKS.flags.writeable = False
_NO_SIGNAL = np.zeros(0, dtype=np.float32)
_NO_SIGNAL.flags.writeable = False


def reaches_every_book(part: Recommender) -> bool:
    """Whether ``part`` can score any book (ALS, popularity), not only those its rows reach.

    Asks for the candidates of a reader of no books, which costs every model type next to nothing.
    """
    return part.reader_candidates(_NO_BOOKS, _NO_SIGNAL) is None


def reach_of(parts: Iterable[Recommender], books: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """The books any of ``parts`` reaches for this reader ((m,) int64, ascending and unique); a
    part that reaches every book is left out."""
    candidates = (part.reader_candidates(books, signal) for part in parts)
    reached = [columns for columns in candidates if columns is not None]
    if len(reached) == 1:
        return reached[0]
    return np.unique(np.concatenate(reached)) if reached else _NO_BOOKS.copy()


def within(books: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Whether each of ``books`` (m,) int64 is in ``reach`` (ascending, unique): (m,) bool.

    A binary search: for a handful of books np.isin costs ~90 µs, building a table of every index.
    """
    if not len(reach):
        return np.zeros(len(books), dtype=bool)
    # Where each book would go; a book past the last one is compared with the last, and differs.
    at = np.minimum(np.searchsorted(reach, books), len(reach) - 1)
    found: np.ndarray = reach[at] == books
    return found


def scores_within(
    part: Recommender, books: np.ndarray, signal: np.ndarray, reach: np.ndarray
) -> tuple[np.ndarray, float]:
    """``part``'s scores of the ``reach`` books only, (len(reach),) float32, and Σ scores² over
    every book: what a part that reaches every book adds within reach, and its scale."""
    if isinstance(part, ALS):
        return part.scores_and_square_sum(books, signal, reach)
    if isinstance(part, LikeShare):  # the same scores for every reader: nothing to compute
        return part.prior[reach], part.square_sum
    scores = part.score_reader(books, signal)
    return scores[reach], square_sum(scores)


class Blend:
    """Weighted sum of its parts' scores, each divided by its per-reader root mean square."""

    model_type: ClassVar[str] = "blend"

    def __init__(
        self,
        parts: Sequence[Mapping[str, Any]] = DEFAULT_PARTS,
        long_from: int | None = None,
        within_reach: bool = False,
    ) -> None:
        from readcrumbs.recommenders import create_model

        if long_from is not None and (
            isinstance(long_from, bool) or not isinstance(long_from, int) or long_from < 1
        ):
            raise TypeError(f"long_from must be a whole number of favourites ≥ 1; got {long_from!r}")
        if not isinstance(within_reach, bool):
            raise TypeError(f"within_reach must be true or false; got {within_reach!r}")
        specs = part_specs(parts, long_from)
        self.params: dict[str, Any] = {"parts": specs}
        if long_from is not None:
            self.params["long_from"] = long_from
        if within_reach:  # absent when false: the params of blends saved before it stay as they were
            self.params["within_reach"] = True
        self.parts: list[Recommender] = [create_model(s["model_type"], s["params"]) for s in specs]
        # Each part's own params include its defaults: the blend's params name what was fitted.
        for spec, part in zip(specs, self.parts, strict=True):
            spec["params"] = dict(part.params)
        self.weights = np.array([s["weight"] for s in specs], dtype=np.float32)  # (n_parts,)
        # (n_parts,): the weights of readers with at least long_from favourites.
        self.long_weights = np.array([s.get("long_weight", s["weight"]) for s in specs], dtype=np.float32)
        self.long_from = long_from
        self.within_reach = within_reach
        regimes = ("weight", "long_weight") if long_from is not None else ("weight",)
        for key in regimes if within_reach else ():
            scoring = [part for spec, part in zip(specs, self.parts, strict=True) if spec[key]]
            if all(reaches_every_book(part) for part in scoring):
                raise TypeError(f"within_reach needs an item-item part (not ALS or popularity) with a {key}")
        self.n_books = 0  # the catalogue size the parts were fitted on
        # The last reader scored: (key, factors, reach or None), kept for explain_reader.
        self._last_reader: tuple[bytes, Factors, np.ndarray | None] = (b"", [], None)

    @classmethod
    def from_parts(
        cls, parts: Sequence[Recommender], weights: Sequence[float], n_books: int, within_reach: bool = False
    ) -> Self:
        """A one-regime blend of ``parts`` already fitted on ``n_books`` books (not fitted again)."""
        blend = cls(
            [
                {"model_type": part.model_type, "weight": weight, "params": part.params}
                for part, weight in zip(parts, weights, strict=True)
            ],
            within_reach=within_reach,
        )
        blend.adopt_parts(parts, n_books)
        return blend

    def adopt_parts(self, parts: Sequence[Recommender], n_books: int) -> None:
        """Use ``parts``, already fitted on ``n_books`` books, in the order of ``params["parts"]``."""
        self.parts = list(parts)
        self.n_books = int(n_books)

    def fit(self, likes: sp.csr_matrix, book_tags: BookTags | None = None) -> None:
        self.n_books = likes.shape[1]
        for part in self.parts:
            part.fit(likes, book_tags)

    def _active(self, n_favourites: int) -> list[tuple[np.float32, Recommender]]:
        """The parts a reader with ``n_favourites`` favourites is scored with, and their weights."""
        long = self.long_from is not None and n_favourites >= self.long_from
        weights = self.long_weights if long else self.weights
        return [(weight, part) for weight, part in zip(weights, self.parts, strict=True) if weight]

    @staticmethod
    def _combine(
        weighted: Sequence[tuple[np.float32, Recommender]], part_scores: Sequence[np.ndarray]
    ) -> tuple[np.ndarray, Factors]:
        """One reader's blended scores (n_books,) float32, and each part with its factor weight / scale.

        ``part_scores``: each of ``weighted``'s parts' (n_books,) scores for the reader. Serving
        and the batch both go through here, one reader at a time, so they add the same float32
        numbers in the same order and rank identically.
        """
        factors = [
            (np.float32(weight) / reader_scale(scores), part)
            for (weight, part), scores in zip(weighted, part_scores, strict=True)
        ]
        # The first part's product is the sum so far: one temporary fewer than zeros + add.
        total = np.multiply(part_scores[0], factors[0][0], dtype=np.float32)
        for (factor, _), scores in zip(factors[1:], part_scores[1:], strict=True):
            total += factor * scores
        return total, factors

    def _score_one(
        self, books: np.ndarray, signal: np.ndarray
    ) -> tuple[np.ndarray, Factors, np.ndarray | None]:
        """One reader's blended scores (n_books,) float32, each scored part with its factor
        (weight / scale), and, within reach, the reached books ((m,) int64 ascending; else None)."""
        weighted = self._active(int(np.count_nonzero(signal > 0)))
        if not self.within_reach:
            scores, factors = self._combine(
                weighted, [part.score_reader(books, signal) for _, part in weighted]
            )
            return scores, factors, None
        items = [(weight, part) for weight, part in weighted if not reaches_every_book(part)]
        total, factors = self._combine(items, [part.score_reader(books, signal) for _, part in items])
        # The books the item-item parts score: one pass over the sum, where the union of their
        # rows' columns would sort a few hundred indices per favourite.
        reach = np.flatnonzero(total)
        for weight, part in weighted:
            if reaches_every_book(part):
                values, squares = scores_within(part, books, signal, reach)
                factor = np.float32(weight) / scale_of(squares, len(total))
                total[reach] += factor * values
                factors.append((factor, part))
        return total, factors, reach

    def score(self, histories: sp.csr_matrix) -> np.ndarray:
        total = np.zeros(histories.shape, dtype=np.float32)
        if self.within_reach:  # reader by reader, through serving's own path
            histories = histories.tocsr()
            if not histories.has_sorted_indices:
                histories = histories.sorted_indices()
            for row in range(histories.shape[0]):
                start, stop = histories.indptr[row], histories.indptr[row + 1]
                books = histories.indices[start:stop].astype(np.int64)
                total[row] = self._score_one(books, histories.data[start:stop].astype(np.float32))[0]
            return total
        favourites = np.diff((histories > 0).tocsr().indptr)  # (n_readers,) books with a positive signal
        long = favourites >= self.long_from if self.long_from is not None else np.zeros(len(favourites), bool)
        for rows in (np.flatnonzero(~long), np.flatnonzero(long)):  # each regime's readers
            if not len(rows):
                continue
            weighted = self._active(int(favourites[rows[0]]))
            group = histories[rows]
            parts = [part.score(group) for _, part in weighted]  # each (len(rows), n_books)
            for at, row in enumerate(rows.tolist()):
                total[row] = self._combine(weighted, [scores[at] for scores in parts])[0]
        return total

    def score_reader(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray:
        scores, factors, reach = self._score_one(books, signal)
        # Serving explains the reader it just scored: keep the factors so explain_reader need not
        # score every part again. One tuple, assigned at once, so concurrent readers never mix.
        self._last_reader = (reader_key(books, signal), factors, reach)
        return scores

    def reader_candidates(self, books: np.ndarray, signal: np.ndarray) -> np.ndarray | None:
        # Serving asks right after scoring the reader: within reach, the reach it was scored in.
        key, _, reach = self._last_reader
        if reach is not None and key == reader_key(books, signal):
            return reach
        # The union over the reader's regime's parts (a sum of parts is zero where each part is,
        # and within reach the others add nothing outside it), or None if a part reaches every
        # book; those are ruled out first, which spares the item-item parts their look-ups.
        scoring = [part for _, part in self._active(int(np.count_nonzero(signal > 0)))]
        if not self.within_reach and any(reaches_every_book(part) for part in scoring):
            return None
        return reach_of(scoring, books, signal)

    def explain_reader(self, books: np.ndarray, signal: np.ndarray, shown: np.ndarray) -> np.ndarray:
        # Each part's terms, on the scale at which that part's scores were blended for this reader.
        # Within reach, a part that scores every book added nothing outside the reach.
        key, factors, reach = self._last_reader
        if key != reader_key(books, signal):
            _, factors, reach = self._score_one(books, signal)
        shares = np.zeros((len(shown), len(books)), dtype=np.float32)
        for factor, part in factors:
            if isinstance(part, LikeShare):  # the same for every reader: no favourite's term
                continue
            terms = part.explain_reader(books, signal, shown)
            if reach is not None and reaches_every_book(part):
                terms[~within(shown, reach)] = 0.0
            shares += factor * terms
        return shares

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            f"{PREFIX.format(i)}{name}": array
            for i, part in enumerate(self.parts)
            for name, array in part.to_arrays().items()
        }
        return {"n_books": np.array(self.n_books, dtype=np.int64), **arrays}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> Self:
        from readcrumbs.recommenders import MODEL_TYPES

        blend = cls(**params)
        blend.n_books = int(arrays["n_books"])
        for i, spec in enumerate(blend.params["parts"]):
            prefix = PREFIX.format(i)
            own = {name[len(prefix) :]: array for name, array in arrays.items() if name.startswith(prefix)}
            blend.parts[i] = MODEL_TYPES[spec["model_type"]].from_arrays(own, spec["params"])
        return blend
