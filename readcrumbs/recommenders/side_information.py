"""Books' shelf tags as side information for the item-item models (EASE, EDLAE).

Jeunen, Van Balen & Goethals (2020), "Closed-form models for collaborative filtering with
side-information" (RecSys late-breaking results): stacking weighted feature rows under the
readers, ``X' = [X; √α · F]``, adds ``α · FᵀF`` to the Gram matrix ``XᵀX``, so two books shelved
alike on Goodreads look read together even where few of our readers hold both. The model stays
one closed-form solve and its weights stay item × item: serving is unchanged.

``F`` (n_tags, n_books) is each book's shelf profile, ``log(1 + count) · idf(tag)`` scaled to
unit length per book:

- ``log(1 + count)``: a shelf 10,000 readers used says more than one 10 used, not 1,000× more;
- ``idf(tag) = log(n_books / books on that shelf)``: shelves nearly every book is on
  ("to-read", "favorites", "owned") say nothing about which books are alike;
- unit length: every book with tags adds the same ``α`` to its own Gram diagonal, so the side
  information does not favour books that were shelved more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


def tag_profiles(tag_counts: sp.csr_matrix) -> sp.csr_matrix:
    """``F``: (n_tags, n_books) float32 CSR, each book's column of unit length (or all zeros).

    ``tag_counts``: (n_tags, n_books), how many readers put each book on each shelf (≥ 0).
    """
    counts = sp.csr_matrix(tag_counts, dtype=np.float32)
    counts.eliminate_zeros()
    n_books = counts.shape[1]
    books_per_tag = np.diff(counts.indptr)  # rows are tags: stored entries per row = books
    idf = np.log(n_books / np.maximum(books_per_tag, 1)).astype(np.float32)  # (n_tags,)
    profiles = sp.csr_matrix(sp.diags(idf) @ counts.log1p(), dtype=np.float32)
    lengths = np.sqrt(np.asarray(profiles.multiply(profiles).sum(axis=0), dtype=np.float64).ravel())
    inverse = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    profiles = sp.csr_matrix(profiles @ sp.diags(inverse.astype(np.float32)), dtype=np.float32)
    profiles.eliminate_zeros()  # shelves every book is on have idf 0
    return profiles


@dataclass
class BookTags:
    """What the catalogue says about its books beyond our readers, for the models that use it.

    ``counts``: (n_tags, n_books) float32 CSR of shelf tags, as
    :meth:`readcrumbs.dataset.Dataset.tag_counts`, with ``FᵀF`` computed once however many models
    train on them; None without tags. ``like_share``: (n_books,) float64, each book's share of
    4- and 5-star Goodreads ratings, NaN where unknown (what ``LikeShare`` scores by); None
    without it.
    """

    counts: sp.csr_matrix | None
    like_share: np.ndarray | None = None
    _gram: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def n_books(self) -> int:
        if self.counts is not None:
            return int(self.counts.shape[1])
        return 0 if self.like_share is None else len(self.like_share)

    def gram(self) -> np.ndarray:
        """``FᵀF``: (n_books, n_books) float32, read-only; ones on the diagonal of tagged books.

        The sparse product takes ≈ 9 s for goodbooks-10k's 1M (book, tag) pairs, so it is kept:
        ``make train`` fits several item-item models, on the validation and the full split.
        Raises ValueError without tags.
        """
        if self.counts is None:
            raise ValueError("tag_weight > 0 needs the books' tags (a data version with book_tags.parquet)")
        if self._gram is None:
            profiles = tag_profiles(self.counts)
            gram = np.asarray((profiles.T @ profiles).toarray(), dtype=np.float32)
            gram.flags.writeable = False
            self._gram = gram
        return self._gram


def side_gram(book_tags: BookTags | None, weight: float, n_books: int) -> np.ndarray | None:
    """``α · FᵀF`` for ``weight`` α, or None when α is 0. (n_books, n_books) float32, a new array.

    Raises ValueError when α > 0 and there are no tags, or they cover another catalogue.
    """
    if weight == 0.0:
        return None
    if weight < 0.0:
        raise ValueError(f"tag_weight must be >= 0, got {weight}")
    if book_tags is None:
        raise ValueError("tag_weight > 0 needs the books' tags (a data version with book_tags.parquet)")
    if book_tags.n_books != n_books:
        raise ValueError(f"the book tags cover {book_tags.n_books} books, the likes {n_books}")
    side: np.ndarray = book_tags.gram() * np.float32(weight)
    return side
