"""A tiny goodbooks-10k, written as CSV (plain or .gz) into a test's folder.

Six books (book_id 1..6, goodreads ids 101..106), seven tags (shelves and genres), and eight
users whose ratings give users 1..4 five likes each and the others fewer.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from readcrumbs.settings import Settings

BOOKS_CSV = """\
book_id,goodreads_book_id,authors,original_publication_year,title,average_rating,ratings_count,image_url,small_image_url,language_code
1,101,Ann Author,1997.0,The Stone,4.4,100,http://img/1m.jpg,http://img/1s.jpg,eng
2,102,"Bea Writer, Cy Pen",2008.0,Hunger,4.3,90,http://img/2m.jpg,http://img/2s.jpg,eng
3,103,Dee Novelist,,Les Misérables,4.1,80,,,fre
4,104,Ann Author,1954.0,Rings,4.5,70,http://img/4m.jpg,http://img/4s.jpg,eng
5,105,Eve Poet,2001.0,"Dune, or Sand",4.2,60,http://img/5m.jpg,http://img/5s.jpg,eng
6,106,Fay Scribe,1813.0,Pride,4.0,50,http://img/6m.jpg,http://img/6s.jpg,eng
"""

TAGS_CSV = """\
tag_id,tag_name
0,to-read
1,fantasy
2,fiction
3,owned
4,classics
5,romance
6,read-in-2015
"""

BOOK_TAGS_CSV = """\
goodreads_book_id,tag_id,count
101,0,500
101,1,300
101,2,200
101,3,150
102,2,40
102,1,40
102,6,90
103,4,70
104,1,60
106,5,10
106,4,20
"""


def _ratings_csv() -> str:
    rows = ["user_id,book_id,rating"]
    # Users 1..4 like all of books 1..5 (rating 4 or 5) and dislike book 6.
    for user in range(1, 5):
        rows += [f"{user},{book},{4 + (user + book) % 2}" for book in range(1, 6)]
        rows.append(f"{user},6,2")
    # Users 5..8 like two books each and rate one 3 (not a like).
    for user in range(5, 9):
        rows += [f"{user},{1 + user % 3},5", f"{user},6,4", f"{user},4,3"]
    return "\n".join(rows) + "\n"


RATINGS_CSV = _ratings_csv()

GOODBOOKS = {
    "ratings.csv": RATINGS_CSV,
    "books.csv": BOOKS_CSV,
    "book_tags.csv": BOOK_TAGS_CSV,
    "tags.csv": TAGS_CSV,
}

WriteGoodbooks = Callable[..., Path]


def write_goodbooks(folder: Path, gz: bool = False, **replaced: str) -> Path:
    """Write the tiny dataset into ``folder``; ``ratings=...`` etc. replace one file's text."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in GOODBOOKS.items():
        text = replaced.get(name.removesuffix(".csv"), text)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def goodbooks(tmp_path: Path) -> WriteGoodbooks:
    """``goodbooks(gz=False, ratings="...")`` writes the tiny dataset and returns its folder."""
    counter = iter(range(1_000))

    def write(gz: bool = False, **replaced: str) -> Path:
        return write_goodbooks(tmp_path / f"goodbooks-{next(counter)}", gz=gz, **replaced)

    return write


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings whose home and registry are inside the test's folder."""

    def make(source: Path | str, **fields: object) -> Settings:
        return Settings(
            home=tmp_path / "home",
            data_source=str(source),
            registry_url=f"file://{tmp_path / 'registry'}",
            events_url=f"sqlite:///{tmp_path / 'events.db'}",
            **fields,  # type: ignore[arg-type]
        )

    return make
