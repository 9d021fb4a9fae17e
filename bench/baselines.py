"""The bare ``POST /predict`` servers /predict is measured against, on the same server stack.

* **canned** (the reference): the real request schema, async, and a fixed answer of the real
  shape: the framework's floor (parsing, validation, serialisation, uvicorn), no model work;
* **canned, direct route** (a diagnostic): the same fixed answer behind
  :class:`~backend.api.direct_route.DirectJsonRoute`, the route /predict takes, which skips
  FastAPI's dependency solving: the floor of /predict's own route;
* **bare + scoring** (a diagnostic): the same model version's ``recommend`` behind a plain
  title dict, without ReadCrumbs' other layers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fastapi import APIRouter, FastAPI, Request, Response

from backend.__main__ import serve
from backend.api.direct_route import JSON, DirectJsonRoute
from backend.schemas import PredictRequest, PredictResponse, RecommendedBook, ResolvedItem
from backend.settings import get_settings
from bench.servers import HOST
from readcrumbs.model_bundle import ModelBundle, load_bundle
from readcrumbs.registry import open_registry


def canned_answer() -> PredictResponse:
    """A fixed answer of the real shape: 10 books with two reasons each."""
    return PredictResponse(
        recs=[f"Book {i}" for i in range(10)],
        books=[
            RecommendedBook(
                book_id=i,
                title=f"Book {i}",
                authors="Some Author",
                year=2000,
                image_url=f"https://images.example/{i}m.jpg",
                score=1.0 - i / 10,
                because=["Favourite A", "Favourite B"],
            )
            for i in range(10)
        ],
        request_id="0" * 32,
        model_version="1",
        resolved=[],
        unknown=[],
    )


def canned_app() -> FastAPI:
    """``POST /predict`` with the real request schema and a canned answer of the real shape: the
    framework's floor (parsing, validation, serialisation, uvicorn), no model work."""
    app = FastAPI()
    canned = canned_answer()

    @app.post("/predict")
    async def predict_canned(body: PredictRequest) -> Response:  # async, like the real route
        return Response(canned.model_dump_json(), media_type="application/json")

    add_ready(app)
    return app


class CannedRoute(DirectJsonRoute):
    """The direct route with the canned answer, serialised per request as the canned endpoint does."""

    body_model = PredictRequest
    canned = canned_answer()

    async def direct(self, body: Any, request: Request) -> Response:
        return Response(self.canned.model_dump_json(), media_type=JSON)


def canned_direct_app() -> FastAPI:
    """:func:`canned_app` behind the route /predict takes (no dependency solving per request)."""
    app = FastAPI()
    router = APIRouter(route_class=CannedRoute)

    @router.post("/predict")
    async def predict_canned(body: PredictRequest) -> Response:  # what a failing body reaches
        return Response(CannedRoute.canned.model_dump_json(), media_type=JSON)

    app.include_router(router)
    add_ready(app)
    return app


@dataclass(frozen=True)
class BookFacts:
    """What an answer shows of one book."""

    title: str
    authors: str
    year: int | None
    image_url: str


def title_index(catalogue: pd.DataFrame) -> dict[str, int]:
    """Exact title → book_id; a title several books share names the most popular one (likes, then
    ratings count, then the lower book_id), as :class:`readcrumbs.catalogue.Catalogue` resolves it,
    so both endpoints score the same favourites."""
    ranked = catalogue.sort_values(
        ["popularity", "ratings_count", "book_id"], ascending=[False, False, True], kind="stable"
    )
    index: dict[str, int] = {}
    for title, book_id in zip(ranked["title"], ranked["book_id"], strict=True):
        index.setdefault(str(title), int(book_id))
    return index


def book_facts(catalogue: pd.DataFrame) -> dict[int, BookFacts]:
    """book_id → what an answer shows of it, read from the catalogue once."""
    return {
        int(book_id): BookFacts(str(title), str(authors), None if pd.isna(year) else int(year), str(image))
        for book_id, title, authors, year, image in zip(
            catalogue["book_id"],
            catalogue["title"],
            catalogue["authors"],
            catalogue["year"],
            catalogue["image_url"],
            strict=True,
        )
    }


def bare_scoring_app(bundle: ModelBundle) -> FastAPI:
    """``POST /predict`` that scores with ``bundle`` like the real route, without ReadCrumbs' layers.

    Items are looked up in a plain title → book_id dict (an integer is taken as a book_id); the
    answer has the real shape. No normalised or fuzzy resolution, no event record, no metrics,
    no middleware, no rate limit: what /predict does beyond this is what the benchmark prices.
    Answers 400 when no item is a known title or book_id.
    """
    app = FastAPI()
    by_title = title_index(bundle.catalogue)
    facts = book_facts(bundle.catalogue)

    @app.post("/predict")
    async def predict_scoring(body: PredictRequest) -> Response:  # async, like the real route
        resolved: list[ResolvedItem] = []
        unknown: list[int | str] = []
        for item in body.items:
            book_id = item if isinstance(item, int) else by_title.get(item)
            if book_id is None or book_id not in facts:
                unknown.append(item)
                continue
            resolved.append(
                ResolvedItem(
                    item=item,
                    book_id=book_id,
                    title=facts[book_id].title,
                    match="book_id" if isinstance(item, int) else "exact",
                    confidence=100.0,
                )
            )
        if not resolved:
            return Response('{"detail":"no item matched a book"}', 400, media_type="application/json")
        books = []
        for recommendation in bundle.recommend([match.book_id for match in resolved], body.k):
            book = facts[recommendation.book]
            books.append(
                RecommendedBook(
                    book_id=recommendation.book,
                    title=book.title,
                    authors=book.authors,
                    year=book.year,
                    image_url=book.image_url,
                    score=recommendation.score,
                    because=[facts[reason].title for reason in recommendation.because],
                )
            )
        answer = PredictResponse(
            recs=[book.title for book in books],
            books=books,
            request_id=uuid.uuid4().hex,
            model_version=bundle.version,
            resolved=resolved,
            unknown=unknown,
        )
        return Response(answer.model_dump_json(), media_type="application/json")

    add_ready(app)
    return app


def add_ready(app: FastAPI) -> None:
    """``GET /ready``: 200 once the app serves (the bench waits for it)."""

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}


def serve_bare_scoring(port: int, version: int) -> None:
    """Serve :func:`bare_scoring_app` with ``version`` of the registry and model named by the
    READCRUMBS_ settings (those the backend process gets)."""
    settings = get_settings()
    registry = open_registry(settings)
    serve(bare_scoring_app(load_bundle(registry, settings.model_name, version)), HOST, port)
