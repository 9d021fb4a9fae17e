"""Shelf tags as side information: the profiles, the Gram term, and EASE/EDLAE fitted with them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from readcrumbs.recommenders import create_model
from readcrumbs.recommenders.ease import EASE
from readcrumbs.recommenders.edlae import EDLAE
from readcrumbs.recommenders.side_information import BookTags, side_gram, tag_profiles
from tests.readcrumbs.recommenders.test_ease import random_likes


def random_tags(n_tags: int = 12, n_books: int = 25, seed: int = 1) -> sp.csr_matrix:
    """(n_tags, n_books) shelving counts, a third of them non-zero, plus one shelf every book is on."""
    rng = np.random.default_rng(seed)
    counts = np.where(rng.random((n_tags, n_books)) < 0.3, rng.integers(1, 500, (n_tags, n_books)), 0)
    counts[0] = 1000  # "to-read": every book
    return sp.csr_matrix(counts.astype(np.float32))


def test_profiles_are_log_counts_times_idf_of_unit_length() -> None:
    # Books 0 and 1 on shelf "a" (10 and 100 readers), book 2 on "b"; every book on "to-read".
    counts = sp.csr_matrix(np.array([[10, 100, 0], [0, 0, 7], [5, 5, 5]], dtype=np.float32))
    profiles = tag_profiles(counts).toarray()
    # idf: "a" log(3/2), "b" log(3), "to-read" log(1) = 0, so book 2 is "b" alone.
    a, b = np.log(1.5), np.log(3.0)
    expected = np.array([[np.log(11) * a, np.log(101) * a, 0.0], [0.0, 0.0, np.log(8) * b], [0, 0, 0]])
    expected /= np.linalg.norm(expected, axis=0)
    np.testing.assert_allclose(profiles, expected, rtol=1e-6)
    assert tag_profiles(counts).nnz == 3  # the shelf every book is on is gone


def test_a_book_without_tags_has_an_empty_profile() -> None:
    counts = sp.csr_matrix(np.array([[3, 0, 0], [0, 2, 0]], dtype=np.float32))
    profiles = tag_profiles(counts).toarray()
    np.testing.assert_array_equal(profiles[:, 2], 0.0)
    np.testing.assert_allclose(np.linalg.norm(profiles[:, :2], axis=0), 1.0)


def test_the_gram_is_computed_once_and_read_only() -> None:
    tags = BookTags(random_tags())
    gram = tags.gram()
    assert tags.gram() is gram and not gram.flags.writeable
    profiles = tag_profiles(tags.counts).toarray()
    np.testing.assert_allclose(gram, profiles.T @ profiles, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.diag(gram), 1.0, rtol=1e-5)


def test_ease_with_tags_is_ease_on_the_readers_stacked_over_the_weighted_tag_rows() -> None:
    """Jeunen et al.'s construction: tags as extra rows √α · F under the readers X."""
    likes, counts, alpha = random_likes(), random_tags(), 4.0
    stacked = sp.vstack([likes, np.sqrt(alpha) * tag_profiles(counts)]).tocsr()
    with_tags = EASE(l2=3.0, neighbours=25, tag_weight=alpha)
    with_tags.fit(likes, BookTags(counts))
    reference = EASE(l2=3.0, neighbours=25)
    reference.fit(stacked)
    np.testing.assert_allclose(with_tags.weights.toarray(), reference.weights.toarray(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("zero_diagonal", [True, False])
def test_edlae_with_tags_treats_the_tag_rows_as_inputs_dropout_included(zero_diagonal: bool) -> None:
    likes, counts, alpha = random_likes(), random_tags(), 2.0
    stacked = sp.vstack([likes, np.sqrt(alpha) * tag_profiles(counts)]).tocsr()
    params = {"l2": 3.0, "dropout": 0.3, "zero_diagonal": zero_diagonal, "neighbours": 25}
    with_tags = EDLAE(**params, tag_weight=alpha)
    with_tags.fit(likes, BookTags(counts))
    reference = EDLAE(**params)
    reference.fit(stacked)
    np.testing.assert_allclose(with_tags.weights.toarray(), reference.weights.toarray(), rtol=1e-4, atol=1e-6)


def test_tags_link_books_that_no_reader_liked_together() -> None:
    # Readers like books {0, 1} or {2, 3}; books 1 and 2 share a shelf nobody else is on.
    likes = sp.csr_matrix(np.array([[1, 1, 0, 0]] * 5 + [[0, 0, 1, 1]] * 5, dtype=np.float32))
    counts = sp.csr_matrix(np.array([[0, 50, 50, 0], [9, 0, 0, 9]], dtype=np.float32))
    plain, tagged = EASE(l2=1.0, neighbours=4), EASE(l2=1.0, neighbours=4, tag_weight=5.0)
    plain.fit(likes)
    tagged.fit(likes, BookTags(counts))
    assert plain.weights[1, 2] == 0.0 < tagged.weights[1, 2]


def test_a_tag_weight_of_zero_ignores_the_tags() -> None:
    likes = random_likes()
    plain, given = EASE(l2=3.0, neighbours=25), EASE(l2=3.0, neighbours=25)
    plain.fit(likes)
    given.fit(likes, BookTags(random_tags()))
    np.testing.assert_array_equal(plain.weights.toarray(), given.weights.toarray())


@pytest.mark.parametrize("model_type", ["ease", "edlae"])
def test_a_tag_weight_without_tags_is_refused(model_type: str) -> None:
    model = create_model(model_type, {"tag_weight": 1.0})
    with pytest.raises(ValueError, match="needs the books' tags"):
        model.fit(random_likes())
    with pytest.raises(ValueError, match="needs the books' tags"):  # like shares are no tags
        model.fit(random_likes(), BookTags(None, np.full(25, 0.7)))


def test_tags_of_another_catalogue_or_a_negative_weight_are_refused() -> None:
    with pytest.raises(ValueError, match="cover 10 books, the likes 25"):
        side_gram(BookTags(random_tags(n_books=10)), 1.0, 25)
    with pytest.raises(ValueError, match="tag_weight must be >= 0"):
        side_gram(BookTags(random_tags()), -1.0, 25)
    assert side_gram(None, 0.0, 25) is None


def test_a_blend_hands_the_tags_to_its_parts() -> None:
    likes, counts = random_likes(), random_tags()
    parts = [
        {"model_type": "ease", "weight": 1.0, "params": {"l2": 3.0, "neighbours": 25, "tag_weight": 2.0}},
        {"model_type": "itemknn", "weight": 0.5, "params": {"neighbours": 25}},
    ]
    blend = create_model("blend", {"parts": parts})
    blend.fit(likes, BookTags(counts))
    alone = EASE(l2=3.0, neighbours=25, tag_weight=2.0)
    alone.fit(likes, BookTags(counts))
    ease_part = blend.parts[0]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(ease_part.weights.toarray(), alone.weights.toarray())
