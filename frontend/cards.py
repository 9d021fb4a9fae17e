"""HTML for covers, book cards and shelf rows.

Everything that came from the catalogue or the reader is escaped here, once, so the page can
render these snippets with ``unsafe_allow_html``. Covers are CSS backgrounds layered over a
generated placeholder: when the cover host cannot be reached (offline, blocked, 404) the
placeholder shows through, with no script and no broken-image icon.
"""

from __future__ import annotations

import hashlib
import html
import textwrap
from urllib.parse import quote

from frontend.books import Book, RecommendedBook

# Page-wide styles for the snippets below; injected once per run.
CARD_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; padding-bottom: 2rem; }
.rc-cover { width: 100%; aspect-ratio: 2 / 3; border-radius: 6px; background-size: cover;
  background-position: center; box-shadow: 0 1px 4px rgba(0, 0, 0, .18); }
.rc-thumb { width: 44px; min-width: 44px; aspect-ratio: 2 / 3; border-radius: 3px; background-size: cover;
  background-position: center; box-shadow: 0 1px 2px rgba(0, 0, 0, .18); }
.rc-card-title { font-weight: 600; line-height: 1.3; margin: .55rem 0 .15rem; height: 2.6em;
  overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.rc-meta { color: #6b7280; font-size: .85rem; line-height: 1.35; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.rc-because { color: #4b5563; font-size: .8rem; line-height: 1.3; margin-top: .35rem; height: 3.9em;
  overflow: hidden; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; }
.rc-row { display: flex; gap: .75rem; align-items: center; min-height: 66px; padding: 3px 0; }
.rc-row-text { min-width: 0; }
.rc-row-title { font-weight: 600; line-height: 1.25; overflow: hidden; display: -webkit-box;
  -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
</style>
"""

# Muted cover colours (top, bottom) for placeholders; a book always gets the same pair.
_PALETTE = (
    ("#3b5b7a", "#1f3347"),
    ("#7a3b4e", "#47202c"),
    ("#3b7a5e", "#1f4734"),
    ("#7a5f3b", "#473620"),
    ("#5b3b7a", "#33204a"),
    ("#3b6f7a", "#1f4047"),
)


def placeholder_cover(book: Book) -> str:
    """A ``data:`` URL of a 200x300 SVG cover showing the title, coloured by the book."""
    digest = hashlib.sha256(f"{book.book_id}:{book.title}".encode()).digest()
    top, bottom = _PALETTE[digest[0] % len(_PALETTE)]
    lines = textwrap.wrap(book.title, width=16)[:5] or ["?"]
    if len(textwrap.wrap(book.title, width=16)) > 5:
        lines[-1] = lines[-1][:14] + "…"
    first_y = 150 - 14 * (len(lines) - 1)
    text = "".join(
        f'<tspan x="100" y="{first_y + 28 * i}">{html.escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="300" viewBox="0 0 200 300">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{top}"/>'
        f'<stop offset="1" stop-color="{bottom}"/></linearGradient></defs>'
        '<rect width="200" height="300" fill="url(#g)"/>'
        '<rect x="10" width="6" height="300" fill="#000" opacity=".18"/>'
        '<rect x="28" y="40" width="150" height="2" fill="#fff" opacity=".5"/>'
        '<rect x="28" y="258" width="150" height="2" fill="#fff" opacity=".5"/>'
        '<text font-family="Georgia, serif" font-size="19" fill="#fff" text-anchor="middle">'
        f"{text}</text></svg>"
    )
    return "data:image/svg+xml," + quote(svg, safe="")


def cover_style(book: Book) -> str:
    """CSS ``background-image`` with the real cover (if any) over the placeholder."""
    layers = [f'url("{placeholder_cover(book)}")']
    if book.image_url:
        # Percent-encode what could end the url("...") or the attribute early.
        layers.insert(0, f'url("{quote(book.image_url, safe=":/?&=%#;,+@~!$*")}")')
    return "background-image: " + ", ".join(layers) + ";"


def format_authors(authors: str, limit: int = 2) -> str:
    """At most ``limit`` names from a comma-separated author list, then "et al."."""
    names = [name.strip() for name in authors.split(",") if name.strip()]
    if not names:
        return "Unknown author"
    return ", ".join(names[:limit]) + (" et al." if len(names) > limit else "")


def format_year(year: int | None) -> str:
    """``1997``, ``750 BC``, or ``""`` when unknown."""
    if year is None:
        return ""
    return f"{-year} BC" if year < 0 else str(year)


def format_rating(rating: float | None) -> str:
    """``★ 4.27`` (the catalogue's average, out of 5), or ``""`` when unknown."""
    return "" if rating is None else f"★ {rating:.2f}"


def genre_label(name: str) -> str:
    """A genre as readers write it: ``science-fiction`` → ``science fiction``."""
    return name.replace("-", " ").replace("_", " ").strip()


def because_text(because: tuple[str, ...], because_genres: tuple[str, ...] = ()) -> str:
    """Why a book is recommended, in plain words (not escaped).

    ``Because you liked “A”``, ``Because you liked “A” and “B”`` (at most two titles, then
    ``“A”, “B” and 2 more``), ``Popular in fantasy`` for a book the picked genres brought, both joined when
    both apply, or ``""`` when the answer gave no reason.
    """
    reasons = []
    if because:
        titles = [f"“{title}”" for title in because[:2]]
        more = len(because) - len(titles)
        if more:
            titles.append(f"{more} more")
        reasons.append("Because you liked " + _and_list(tuple(titles)))
    if because_genres:
        genres = _and_list(tuple(genre_label(genre) for genre in because_genres))
        reasons.append(("popular in " if reasons else "Popular in ") + genres)
    return "; ".join(reasons)


def _and_list(names: tuple[str, ...]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def card_html(recommended: RecommendedBook) -> str:
    """One recommendation card: cover, title, author · year · rating, and why it is here."""
    book = recommended.book
    because = because_text(recommended.because, recommended.because_genres)
    return (
        f'<div class="rc-card" data-position="{recommended.position}">'
        f'<div class="rc-cover" role="img" aria-label="{html.escape(f"Cover of {book.title}")}" '
        f'style="{html.escape(cover_style(book))}"></div>'
        f'<div class="rc-card-title" title="{html.escape(book.title)}">{html.escape(book.title)}</div>'
        f'<div class="rc-meta">{html.escape(format_authors(book.authors))}</div>'
        f'<div class="rc-meta">{html.escape(_year_and_rating(book))}</div>'
        f'<div class="rc-because">{html.escape(because)}</div>'
        "</div>"
    )


def row_html(book: Book) -> str:
    """A compact row for search results and the shelf: thumbnail, title, author · year."""
    return (
        '<div class="rc-row">'
        f'<div class="rc-thumb" role="img" aria-label="{html.escape(f"Cover of {book.title}")}" '
        f'style="{html.escape(cover_style(book))}"></div>'
        '<div class="rc-row-text">'
        f'<div class="rc-row-title">{html.escape(book.title)}</div>'
        f'<div class="rc-meta">{html.escape(_author_and_year(book))}</div>'
        "</div></div>"
    )


def _year_and_rating(book: Book) -> str:
    parts = [format_year(book.year), format_rating(book.average_rating)]
    return " · ".join(part for part in parts if part) or "\u00a0"  # keep the line so cards align


def _author_and_year(book: Book) -> str:
    parts = [format_authors(book.authors), format_year(book.year)]
    return " · ".join(part for part in parts if part)
