"""A tiny goodbooks-10k in the official layout, big enough for the real pipeline to train on.

Shared by the end-to-end tests (``make run`` and the AWS path), which run the real pipeline in a
subprocess and need held-out users with enough likes as well as users to train on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_BOOKS = 40
N_USERS = 80
# Two taste groups over the 40 books, so a model has something to learn.
GROUP_SIZE = N_BOOKS // 2


def write_tiny_goodbooks(folder: Path) -> list[str]:
    """The four CSVs in the official layout; the book titles, by book_id - 1.

    80 users in two taste groups: each likes some of its group's 20 books (rating 4-5) and rates
    3 books of the other group 1-2. Only every eighth user likes 12 books, enough (10) to be held
    out for evaluation, so the other 70 are left to train on.
    """
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True)
    titles = [f"Book Number {book_id}" for book_id in range(1, N_BOOKS + 1)]
    books = [
        "book_id,goodreads_book_id,authors,original_publication_year,title,average_rating,ratings_count,image_url"
    ]
    books += [
        f"{book_id},{1000 + book_id},Author {book_id % 7},{1950 + book_id},{titles[book_id - 1]},4.0,"
        f"{500 - book_id},http://img/{book_id}.jpg"
        for book_id in range(1, N_BOOKS + 1)
    ]
    ratings = ["user_id,book_id,rating"]
    for user in range(1, N_USERS + 1):
        own = 1 + (user % 2) * GROUP_SIZE
        other = 1 + ((user + 1) % 2) * GROUP_SIZE
        liked = rng.choice(np.arange(own, own + GROUP_SIZE), size=12 if user % 8 == 0 else 7, replace=False)
        disliked = rng.choice(np.arange(other, other + GROUP_SIZE), size=3, replace=False)
        ratings += [f"{user},{book},{rng.integers(4, 6)}" for book in liked]
        ratings += [f"{user},{book},{rng.integers(1, 3)}" for book in disliked]
    tags = ["tag_id,tag_name", "0,to-read", "1,fantasy", "2,science-fiction"]
    book_tags = ["goodreads_book_id,tag_id,count"]
    book_tags += [f"{1000 + b},{1 + (b > GROUP_SIZE)},{10 + b}" for b in range(1, N_BOOKS + 1)]
    for name, lines in (("books", books), ("ratings", ratings), ("tags", tags), ("book_tags", book_tags)):
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return titles
