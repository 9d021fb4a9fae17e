"""The catalogue: search and look-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.api.deps import ServingDep
from backend.errors import BookNotFound
from backend.schemas import BookPublic, BookSearchResponse

router = APIRouter(prefix="/books", tags=["books"])


@router.get("/search", response_model=BookSearchResponse)
def search_books(
    state: ServingDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="A title as typed, part of one, or author and title words.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> BookSearchResponse:
    """Books for a query: the book it names (as /predict reads it), title prefixes, then all words."""
    books = state.catalogue.search(q, limit)
    return BookSearchResponse(query=q, books=[BookPublic.from_book(book) for book in books])


@router.get("/{book_id}", response_model=BookPublic, responses={404: {"description": "No such book."}})
async def get_book(book_id: int, state: ServingDep) -> BookPublic:
    """One book of the catalogue."""
    book = state.catalogue.get(book_id)
    if book is None:
        raise BookNotFound(f"No book with book_id {book_id}.")
    return BookPublic.from_book(book)
