"""Request and response bodies of the HTTP API, named by role (``*Request``/``*Create`` in,
``*Response``/``*Public`` out) and kept apart from the stored event records.

The prototype's clients keep working: ``/predict`` still takes ``{"items", "userid"}`` and
answers ``recs``; ``/feedback`` still takes ``{"userid", "recommendations", "feedback", "title",
"position", "timestamp"}``; ``/random`` still answers ``items``, ``user_id``, ``timestamp`` and
``prediction``. Unknown request fields are ignored.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictInt,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from backend.serving import ServingState
from readcrumbs.catalogue import Book
from readcrumbs.events.records import PredictionRecord, prediction_fields

MAX_ITEMS = 500
MAX_TITLE_CHARS = 500
MAX_K = 100

# Control characters (C0, DEL, C1) and bidi overrides/isolates would reach logs and the dashboard
# as text that hides or reorders what follows (issue 15): refused, with a 422.
_HIDDEN_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _no_hidden_characters(text: str) -> str:
    if _HIDDEN_CHARACTERS.search(text):
        raise ValueError("must not contain control or bidirectional-override characters")
    return text


UserId = Annotated[
    str, StringConstraints(min_length=1, max_length=256), AfterValidator(_no_hidden_characters)
]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE_CHARS)]
# A JSON number is a book_id, a JSON string a title (or a book_id in digits).
Item = StrictInt | Title
MAX_GENRES = 20
Genre = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class PredictRequest(BaseModel):
    """A reader's favourite books (titles or book_ids), and optionally genres, dislikes and options."""

    items: list[Item] = Field(
        max_length=MAX_ITEMS,
        description="Favourite books: titles (matched exactly, then loosely, then fuzzily) or book_ids. "
        "May be empty when `genres` is given.",
        examples=[["The Hobbit", "1984", 2]],
    )
    userid: UserId = Field(description="Who asks; any opaque id of 1–256 characters.")
    k: int = Field(10, ge=1, le=MAX_K, strict=True, description="How many books to recommend.")
    genres: list[Genre] = Field(
        default_factory=list,
        max_length=MAX_GENRES,
        description="Genres (names as `GET /genres` lists them; case and spaces are forgiven). Alone, a "
        "starter list of well-rated, well-liked books of those genres; with `items`, books of those "
        "genres are lifted by up to half their score. An unknown name is a 400 naming close known ones.",
        examples=[["fantasy", "science-fiction"]],
    )
    disliked: list[Item] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="Books the reader disliked, resolved like `items`: never recommended, and they count "
        "against similar books; nor is the rest of a disliked book's series, unless a favourite is "
        "in it. A book in both lists counts as disliked.",
        examples=[["Twilight"]],
    )
    one_per_series: bool = Field(
        False,
        strict=True,
        description="At most one book per series: the next volume the reader has not given, in the place "
        "of the series' best-ranked book.",
    )


class ResolvedItem(BaseModel):
    """How one item was matched to a book."""

    item: StrictInt | str
    book_id: int
    title: str
    match: Literal[
        "book_id", "exact", "normalized", "original", "main_title", "by_author", "series", "partial", "fuzzy"
    ] = Field(
        description="The resolution step that found the book: book_id, exact title, normalized title "
        "(case, accents, punctuation, apostrophes, numbers in words or digits: '13 reasons why'), "
        "original title, main title (without subtitle, or after its series' name: 'goblet of fire'), "
        "title by author ('dune by frank herbert', '1984 george orwell'), series ('hunger games 2', "
        "'hunger games catching fire', 'percy jackson 1'), partial title (its first words), or fuzzy "
        "(typos)."
    )
    confidence: float = Field(
        description="0..100: 100 for look-ups, 95-97 for a main or partial title, a series acronym or "
        "short name, or a title read without the notes the reader added ('dune 1965'), the "
        "similarity score where typos were tolerated."
    )
    alternatives: list[int] = Field(
        default_factory=list,
        description="Other books the item could name (a title several books share), best known first; "
        "the item resolved to the best known of them.",
    )


class RecommendedBook(BaseModel):
    """One recommendation, with the favourites (titles) and the genres that led to it."""

    book_id: int
    title: str
    authors: str
    year: int | None
    image_url: str
    score: float
    because: list[str] = Field(
        description="The favourites (titles) that contributed a meaningful share of the score, strongest "
        "first: the strongest always, others with at least 30 % of the positive contributions; at most 3."
    )
    because_genres: list[str] = Field(
        default_factory=list, description="The requested genres this book carries, which lifted it."
    )


class PredictResponse(BaseModel):
    """Recommendations, best first; ``recs`` repeats their titles for the prototype's clients."""

    recs: list[str]
    books: list[RecommendedBook]
    request_id: str
    model_version: str = Field(description="Registry version of the model that answered.")
    resolved: list[ResolvedItem]
    unknown: list[StrictInt | str] = Field(
        description="Items and disliked items that matched no book, as given (items first)."
    )
    arm: Literal["production", "challenger"] = Field(
        "production",
        description="Which served model answered: production, or the challenger (for its share of readers).",
    )


class FeedbackCreate(BaseModel):
    """A like or dislike of a book, ideally tied to the prediction that showed it.

    The prototype's extra fields are accepted: ``recommendations`` is superseded by
    ``request_id``, and ``timestamp`` is ignored because the record takes the server's clock.
    """

    feedback: Literal[1, -1, "like", "dislike"] = Field(description="1 or 'like'; -1 or 'dislike'.")
    userid: UserId
    book_id: StrictInt | None = None
    title: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS)] | None = None
    request_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")] | None = Field(
        None, description="The request_id of the /predict answer that showed the book; checked when given."
    )
    position: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Where the book was shown in the list; with a request_id, taken from the record instead.",
    )
    recommendations: list[Title] | None = Field(None, max_length=MAX_ITEMS)
    timestamp: str | float | None = None

    @field_validator("feedback", mode="before")
    @classmethod
    def _feedback_words(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("feedback must be 1, -1, 'like' or 'dislike', not a boolean")
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _names_a_book(self) -> FeedbackCreate:
        if self.book_id is None and self.title is None:
            raise ValueError("feedback needs a book_id or a title")
        return self

    @property
    def value(self) -> int:
        """+1 for a like, -1 for a dislike."""
        return 1 if self.feedback in (1, "like") else -1


class FeedbackPublic(BaseModel):
    """The stored feedback."""

    status: Literal["ok"] = "ok"
    feedback_id: str
    book_id: int
    title: str
    value: int
    request_id: str | None
    position: int | None = Field(
        None,
        description="The stored position: with a request_id, the book's rank in that answer (0 = first).",
    )


class BookPublic(BaseModel):
    """A catalogue book."""

    book_id: int
    title: str
    authors: str
    year: int | None
    image_url: str
    small_image_url: str
    average_rating: float | None
    ratings_count: int
    genres: list[str]
    popularity_pct: float = Field(description="Percentile rank (0..100) of the book's likes in training.")

    @classmethod
    def from_book(cls, book: Book) -> BookPublic:
        return cls(
            book_id=book.book_id,
            title=book.title,
            authors=book.authors,
            year=book.year,
            image_url=book.image_url,
            small_image_url=book.small_image_url,
            average_rating=book.average_rating,
            ratings_count=book.ratings_count,
            genres=list(book.genres),
            popularity_pct=book.popularity_pct,
        )


class BookSearchResponse(BaseModel):
    """Books matching a query, best first: the book the query names (as /predict would resolve it),
    then titles starting with it, then books holding all its words (typos allowed); best known first."""

    query: str
    books: list[BookPublic]


class GenrePublic(BaseModel):
    """One genre and how many books carry it."""

    name: str = Field(description="The genre, as Goodreads shelves write it ('science-fiction').")
    books: int = Field(description="Books of the catalogue that list this genre among their top five.")


class GenresResponse(BaseModel):
    """The catalogue's genres, most books first (then by name): goodbooks' tags without the
    shelves that are no genre ('to-read', 'owned', years, formats, authors, series), synonyms
    merged ('sci-fi' and 'scifi' count as 'science-fiction')."""

    genres: list[GenrePublic]


# The prototype's /random names for two record fields; every other field keeps the record's name.
PROTOTYPE_NAMES = {"ts": "timestamp", "userid": "user_id"}

# One logged prediction: derived from the record's field definitions (readcrumbs/events/records.py),
# so a new record field appears here, described, without an edit.
RandomPredictionPublic: type[BaseModel] = create_model(
    "RandomPredictionPublic",
    __doc__="One logged prediction; ``user_id``, ``timestamp`` and ``prediction`` keep the prototype's "
    "names.",
    **{
        PROTOTYPE_NAMES.get(spec.name, spec.name): (spec.python_type, Field(description=spec.doc))
        for spec in prediction_fields()
    },  # type: ignore[call-overload]  # field definitions built at import, typed at runtime
)


def random_prediction_public(record: PredictionRecord) -> BaseModel:
    """``record`` as a :data:`RandomPredictionPublic`."""
    return RandomPredictionPublic(
        **{PROTOTYPE_NAMES.get(name, name): value for name, value in asdict(record).items()}
    )


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ModelPublic(BaseModel):
    name: str
    version: str
    model_type: str
    data_version: str
    created_at: str
    loaded_at: str
    source: Literal["registry", "cache"] = Field(
        description="Where the files came from: the registry, or the local copy of the last good "
        "version while the registry cannot be reached or its production version is corrupt."
    )
    fallback_reason: str | None = Field(
        None, description="Why the cached copy serves instead of the registry's version (source 'cache')."
    )

    @classmethod
    def from_state(cls, state: ServingState) -> ModelPublic:
        manifest = state.bundle.manifest
        return cls(
            name=manifest.name,
            version=state.version,
            model_type=manifest.model_type,
            data_version=manifest.data_version,
            created_at=manifest.created_at,
            loaded_at=state.loaded_at,
            source=state.source.value,
        )


class EventStorePublic(BaseModel):
    kind: str = Field(description="sqlite, dynamodb or memory.")
    state: Literal["ok", "degraded", "unavailable"] = Field(
        description="unavailable: the store does not answer; degraded: it answers but writes fail "
        "(records wait in the spool or in memory); ok otherwise."
    )
    queue_depth: int
    held: int = Field(0, description="Records held in memory because neither store nor spool took them.")
    spooled: int = Field(description="Records waiting in the local spool for the store to recover.")


class ChallengerPublic(BaseModel):
    model: ModelPublic
    mode: Literal["split", "shadow"] = Field(description="READCRUMBS_CHALLENGER_MODE.")
    share: float = Field(description="READCRUMBS_CHALLENGER_SHARE: readers shown its list in split mode.")


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    model: ModelPublic
    challenger: ChallengerPublic | None = Field(
        None, description="The registry's challenger version served beside production; null when none."
    )
    catalogue_size: int
    event_store: EventStorePublic


class ReloadResponse(BaseModel):
    outcome: Literal["loaded", "unchanged"]
    model_version: str
    previous_version: str | None
    challenger_outcome: Literal["loaded", "unchanged", "cleared", "none", "refused"] = Field(
        "none",
        description="What the reload did to the challenger: none when no challenger alias is set, "
        "refused when its version cannot be served (production's reload still happened).",
    )
    challenger_version: str | None = Field(None, description="The challenger version served now.")
