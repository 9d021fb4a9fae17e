"""The page in each state, under AppTest, with the backend replaced by an in-memory fake."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from frontend.api_client import HttpBackend
from frontend.books import Book
from frontend.errors import RequestRejected
from frontend.favourites import DEFAULT_RECOMMENDATIONS
from frontend.results import LIKED
from frontend.session import OUTCOME, READER_ID, SHELF
from tests.frontend import stub_catalogue
from tests.frontend.conftest import APP_PATH
from tests.frontend.fake_backend import FakeBackend
from tests.frontend.stub_server import StubServer


def card_titles(app: AppTest) -> list[str]:
    """Titles of the recommendation cards on the page, in order."""
    outcome = app.session_state[OUTCOME]
    shown = [m.value for m in app.markdown if 'class="rc-card"' in m.value]
    assert outcome is not None and outcome.recommendations is not None
    titles = [r.book.title for r in outcome.recommendations.books]
    assert len(shown) == len(titles)
    return titles


def page_text(app: AppTest) -> str:
    parts = [
        e.value for kind in ("markdown", "caption", "info", "warning", "error") for e in getattr(app, kind)
    ]
    return "\n".join(str(p) for p in parts)


def add_key(query: str, title: str) -> str:
    """The key of the Add button of ``title`` among the results for ``query``."""
    results = stub_catalogue.search_json(query, 8)
    row = next(i for i, book in enumerate(results) if book["title"] == title)
    return f"add-{row}-{results[row]['book_id']}"


def pick(app: AppTest, query: str, title: str) -> None:
    """Search for ``query`` and press Add on the result called ``title``."""
    app.text_input(key="search_query").input(query).run()
    app.button(key=add_key(query, title)).click().run()


def test_first_visit_shows_how_it_works_and_cannot_ask_yet(app: AppTest, backend: FakeBackend) -> None:
    app.run()

    assert not app.exception
    assert "How it works" in app.info[0].value
    assert app.button(key="ask-shelf").disabled
    assert backend.predictions == [] and backend.searches == []


def test_reader_id_is_one_per_session_and_survives_reruns(app: AppTest) -> None:
    app.run()
    reader_id = app.session_state[READER_ID]
    app.run()
    app.run()

    assert app.session_state[READER_ID] == reader_id and len(reader_id) == 32
    assert reader_id in page_text(app)


def test_search_add_and_recommend_shows_cards_with_reasons(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    pick(app, "austen", "Emma")

    assert [b.title for b in app.session_state[SHELF]] == ["The Hobbit", "Emma"]
    assert app.button(key=add_key("austen", "Emma")).disabled  # already picked: shown as added
    app.button(key="ask-shelf").click().run()

    assert not app.exception
    items, reader_id, how_many = backend.predictions[-1]
    assert items == [7, 18] and reader_id == app.session_state[READER_ID]
    assert how_many == DEFAULT_RECOMMENDATIONS
    titles = card_titles(app)
    expected = [b["title"] for b in stub_catalogue.predict_json([7, 18], "r", how_many, "x")[1]["books"]]
    assert titles == expected
    cards = "\n".join(m.value for m in app.markdown if 'class="rc-card"' in m.value)
    assert "Because you liked “The Hobbit”" in cards
    assert "★ 4.34" in cards  # rating fetched from /books/{id}, since /predict leaves it out
    assert "data:image/svg+xml" in cards  # placeholder under every cover


def test_choosing_how_many_sends_k_and_shows_that_many(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "orwell", "Animal Farm")
    app.slider(key="how_many").set_value(5).run()
    app.button(key="ask-shelf").click().run()

    assert backend.predictions[-1][2] == 5
    assert len(card_titles(app)) == 5


def test_a_rerun_does_not_ask_again(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "dune", "Dune")
    app.button(key="ask-shelf").click().run()
    app.run()
    app.run()

    assert len(backend.predictions) == 1
    assert card_titles(app)


def test_remove_and_clear_the_shelf(app: AppTest) -> None:
    app.run()
    pick(app, "orwell", "Animal Farm")
    pick(app, "orwell", "Nineteen Eighty-Four")
    app.button(key="remove-0-14").click().run()
    assert [b.title for b in app.session_state[SHELF]] == ["Nineteen Eighty-Four"]

    app.button(key="clear-shelf").click().run()
    assert app.session_state[SHELF] == []
    assert app.button(key="ask-shelf").disabled


def test_one_letter_is_not_searched_yet(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    app.text_input(key="search_query").input("t").run()

    assert backend.searches == []
    assert any("Start typing" in c.value for c in app.caption)


def test_search_with_no_match_says_so(app: AppTest) -> None:
    app.run()
    app.text_input(key="search_query").input("qqqzzz").run()

    assert "No books match" in app.info[0].value
    assert not [b for b in app.button if (b.key or "").startswith("add-")]


def test_a_refused_search_says_why_instead_of_blaming_the_server(
    app: AppTest, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(query: str, limit: int) -> list[Book]:
        raise RequestRejected(
            "refused", status=422, detail=[{"msg": "String should have at most 200 characters"}]
        )

    monkeypatch.setattr(backend, "search_books", refuse)
    app.run()
    app.text_input(key="search_query").input("tolkien").run()

    assert not app.error and "at most 200 characters" in app.warning[0].value


def test_catalogue_text_is_escaped_not_rendered(app: AppTest) -> None:
    app.run()
    app.text_input(key="search_query").input("bold").run()

    rows = [m.value for m in app.markdown if 'class="rc-row"' in m.value]
    assert rows and "<script>" not in rows[0] and "&lt;script&gt;" in rows[0]
    assert "&lt;b&gt;Bold&lt;/b&gt;" in rows[0]


def test_pasted_list_shows_what_each_line_became_and_what_was_not_found(
    app: AppTest, backend: FakeBackend
) -> None:
    app.run()
    app.text_area(key="pasted_text").input("the hobbit\nHunger Gamez\n- dune").run()
    app.button(key="ask-paste").click().run()

    assert not app.exception
    assert backend.predictions[-1][0] == ["the hobbit", "Hunger Gamez", "dune"]
    report = page_text(app)
    assert "“the hobbit” → <b>The Hobbit</b>" in report
    assert "“Hunger Gamez”: not found" in report
    assert card_titles(app)  # the known ones still give recommendations
    assert app.expander[0].label.startswith("How we read your list: 2 of 3 found")

    # The suggestion replaces the unknown line and asks again.
    app.button(key="use-0-The Hunger Games").click().run()
    assert str(app.text_area(key="pasted_text").value).splitlines() == [
        "the hobbit",
        "The Hunger Games",
        "dune",
    ]
    assert backend.predictions[-1][0] == ["the hobbit", "The Hunger Games", "dune"]
    assert "not found" not in page_text(app)


def test_nothing_recognised_shows_the_servers_message_and_every_unknown(
    app: AppTest, backend: FakeBackend
) -> None:
    app.run()
    app.text_area(key="pasted_text").input("Qwerty Zzz, Hunger Gamez").run()
    app.button(key="ask-paste").click().run()

    assert not app.exception
    assert "None of the books could be found" in app.warning[0].value
    text = page_text(app)
    # The server's one list of suggestions is not pinned on the wrong entry: each is searched.
    assert "“Qwerty Zzz”: not found in the catalogue; try the search" in text
    assert "“Hunger Gamez”: not found in the catalogue; did you mean" in text
    assert [b.key for b in app.button if (b.key or "").startswith("use-")] == ["use-1-The Hunger Games"]


def test_one_unknown_entry_gets_the_servers_suggestions(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    app.text_area(key="pasted_text").input("Hunger Gamez").run()
    app.button(key="ask-paste").click().run()

    assert app.button(key="use-0-The Hunger Games")
    assert backend.searches == []  # no extra search needed


def test_asking_with_an_empty_paste_box_explains(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    app.button(key="ask-paste").click().run()

    assert "at least one book" in app.warning[0].value
    assert backend.predictions == []


def test_backend_down_during_search_offers_retry(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    backend.down = True
    app.text_input(key="search_query").input("tolkien").run()

    assert not app.exception
    assert "isn't answering" in app.error[0].value
    backend.down = False
    app.button(key="retry-search").click().run()
    assert not app.error and [b for b in app.button if (b.key or "").startswith("add-")]


def test_backend_down_when_asking_keeps_picks_and_retries(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    backend.down = True
    app.button(key="ask-shelf").click().run()

    assert not app.exception
    assert "isn't answering" in app.error[0].value and "Could not reach" in app.error[0].value
    assert [b.title for b in app.session_state[SHELF]] == ["The Hobbit"]

    backend.down = False
    app.button(key="retry-recommend").click().run()
    assert not app.error
    assert backend.predictions[-1][0] == [7] and card_titles(app)


def test_like_is_sent_once_with_request_id_and_position(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    outcome = app.session_state[OUTCOME]
    request_id = outcome.recommendations.request_id
    second = outcome.recommendations.books[1]

    app.button(key=f"like-{request_id}-1").click().run()
    app.run()
    app.run()

    assert len(backend.votes) == 1
    vote = backend.votes[0]
    payload = vote.as_payload()
    assert payload["request_id"] == request_id and payload["position"] == 1 and payload["feedback"] == 1
    assert payload["book_id"] == second.book.book_id and payload["userid"] == app.session_state[READER_ID]
    recorded = app.button(key=f"voted-{request_id}-1")
    assert recorded.label == LIKED and recorded.disabled
    keys = {b.key for b in app.button}
    assert f"like-{request_id}-1" not in keys and f"like-{request_id}-0" in keys


def shown_ids(app: AppTest) -> list[int | None]:
    """Book ids of the cards on the page, in order."""
    card_titles(app)  # the cards drawn are the answer's
    return [r.book.book_id for r in app.session_state[OUTCOME].recommendations.books]


def test_dislike_is_logged_then_the_list_refreshes_without_the_book(
    app: AppTest, backend: FakeBackend
) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    request_id = app.session_state[OUTCOME].recommendations.request_id
    first = app.session_state[OUTCOME].recommendations.books[0].book
    assert backend.requests[-1].disliked == []

    app.button(key=f"dislike-{request_id}-0").click().run()

    assert not app.exception
    assert [(v.value, v.request_id, v.book.book_id) for v in backend.votes] == [
        (-1, request_id, first.book_id)
    ]
    assert len(backend.requests) == 2  # asked again at once, without another click
    assert backend.requests[-1].items == [7] and backend.requests[-1].disliked == [first.book_id]
    assert first.book_id not in shown_ids(app)
    assert app.session_state[OUTCOME].recommendations.request_id != request_id
    text = page_text(app)
    assert "Leaving out the 1 book you turned down" in text
    assert f"Not for you, left out of your lists: “{first.title}”" in text


def test_dislikes_add_up_and_undo_lets_them_back(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    for _ in range(2):
        request_id = app.session_state[OUTCOME].recommendations.request_id
        app.button(key=f"dislike-{request_id}-0").click().run()
    gone = backend.requests[-1].disliked
    assert len(gone) == 2 and not set(gone) & set(shown_ids(app))

    app.button(key="forget-dislikes").click().run()
    app.button(key="ask-shelf").click().run()
    assert backend.requests[-1].disliked == []
    assert set(gone) <= set(shown_ids(app))


def test_a_dislike_that_could_not_be_saved_changes_nothing(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    request_id = app.session_state[OUTCOME].recommendations.request_id
    backend.feedback_down = True
    app.button(key=f"dislike-{request_id}-0").click().run()

    assert len(backend.requests) == 1 and backend.votes == []
    assert any("couldn't save that" in c.value for c in app.caption)
    assert app.button(key=f"dislike-{request_id}-0")  # offered again


def test_like_offers_more_like_this_which_adds_the_book_and_refreshes(
    app: AppTest, backend: FakeBackend
) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    request_id = app.session_state[OUTCOME].recommendations.request_id
    liked = app.session_state[OUTCOME].recommendations.books[2].book
    app.button(key=f"like-{request_id}-2").click().run()

    assert len(backend.requests) == 1  # a like alone does not change the list
    assert app.button(key=f"voted-{request_id}-2").label == LIKED
    app.button(key=f"more-{request_id}-2").click().run()

    assert not app.exception
    assert [b.book_id for b in app.session_state[SHELF]] == [7, liked.book_id]
    assert backend.requests[-1].items == [7, liked.book_id]
    assert liked.book_id not in shown_ids(app)
    assert [v.value for v in backend.votes] == [1]  # the like was logged once


def test_more_like_this_after_a_pasted_list_adds_the_title_to_the_list(
    app: AppTest, backend: FakeBackend
) -> None:
    app.run()
    app.text_area(key="pasted_text").input("the hobbit").run()
    app.button(key="ask-paste").click().run()
    request_id = app.session_state[OUTCOME].recommendations.request_id
    liked = app.session_state[OUTCOME].recommendations.books[0].book
    app.button(key=f"like-{request_id}-0").click().run()
    app.button(key=f"more-{request_id}-0").click().run()

    assert str(app.text_area(key="pasted_text").value).splitlines() == ["the hobbit", liked.title]
    assert backend.requests[-1].items == ["the hobbit", liked.title]
    assert app.session_state[SHELF] == []


def test_genre_start_gives_ten_books_in_two_clicks(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    chips = app.pills(key="picked_genres")
    assert chips.options[:2] == ["classics", "science fiction"]  # most books first, as readers write them
    assert app.button(key="ask-shelf").disabled

    chips.select("fantasy").run()  # click 1
    assert not app.button(key="ask-shelf").disabled
    app.button(key="ask-shelf").click().run()  # click 2

    assert not app.exception
    request = backend.requests[-1]
    assert (request.items, request.genres, request.k) == ([], ["fantasy"], DEFAULT_RECOMMENDATIONS)
    books = app.session_state[OUTCOME].recommendations.books
    assert books and all(b.because_genres == ("fantasy",) and b.because == () for b in books)
    cards = "\n".join(m.value for m in app.markdown if 'class="rc-card"' in m.value)
    assert "Popular in fantasy" in cards and "Because you liked" not in cards
    assert backend.genre_lists == 1
    app.run()
    assert backend.genre_lists == 1  # asked once per visit


def test_ten_books_from_genres_alone(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    app.pills(key="picked_genres").set_value(["classics", "science-fiction"]).run()
    app.button(key="ask-shelf").click().run()

    assert backend.requests[-1].genres == ["classics", "science-fiction"]
    assert len(card_titles(app)) == DEFAULT_RECOMMENDATIONS
    assert "Genres: classics, science fiction" in page_text(app)


def test_genres_and_favourites_go_together_and_reasons_name_both(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "austen", "Emma")
    app.pills(key="picked_genres").select("fantasy").run()
    app.button(key="ask-shelf").click().run()

    request = backend.requests[-1]
    assert (request.items, request.genres) == ([18], ["fantasy"])
    cards = "\n".join(m.value for m in app.markdown if 'class="rc-card"' in m.value)
    assert "Because you liked “Emma”; popular in fantasy" in cards


def test_genres_that_cannot_be_loaded_leave_the_search_and_offer_retry(
    app: AppTest, backend: FakeBackend
) -> None:
    backend.genres_down = True
    app.run()
    app.run()

    assert not app.exception and not app.error
    assert not app.pills and backend.genre_lists == 1  # the failure is remembered, not re-asked
    assert "could not be loaded" in page_text(app)
    backend.genres_down = False
    app.button(key="retry-genres").click().run()
    assert app.pills(key="picked_genres").options


def test_series_toggle_sends_the_option_and_refreshes_the_list(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    assert backend.requests[-1].one_per_series is False
    before = card_titles(app)
    assert sum("(The Hunger Games, #" in title for title in before) == 2

    app.toggle(key="one_per_series").set_value(True).run()

    assert len(backend.requests) == 2 and backend.requests[-1].one_per_series is True
    after = card_titles(app)
    assert "The Hunger Games" in after and not any("(The Hunger Games, #" in t for t in after)
    assert not any("(Harry Potter, #2)" in t for t in after)
    app.button(key="ask-shelf").click().run()
    assert backend.requests[-1].one_per_series is True  # the choice holds for later requests


def test_series_toggle_before_any_answer_asks_nothing(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    app.toggle(key="one_per_series").set_value(True).run()

    assert backend.requests == []


def test_failed_feedback_is_polite_and_can_be_sent_again(app: AppTest, backend: FakeBackend) -> None:
    app.run()
    pick(app, "tolkien", "The Hobbit")
    app.button(key="ask-shelf").click().run()
    request_id = app.session_state[OUTCOME].recommendations.request_id
    backend.feedback_down = True
    app.button(key=f"like-{request_id}-0").click().run()

    assert not app.exception and backend.votes == []
    assert any("couldn't save that" in c.value for c in app.caption)

    backend.feedback_down = False
    app.button(key=f"like-{request_id}-0").click().run()
    assert len(backend.votes) == 1
    assert not any("couldn't save that" in c.value for c in app.caption)


def test_link_with_books_opens_with_recommendations(app: AppTest, backend: FakeBackend) -> None:
    app.query_params["books"] = "7,16,junk,7"
    app.query_params["k"] = "6"
    app.run()

    assert not app.exception
    assert [b.title for b in app.session_state[SHELF]] == ["The Hobbit", "The Lord of the Rings"]
    assert backend.predictions == [([7, 16], app.session_state[READER_ID], 6)]
    assert len(card_titles(app)) == 6
    app.run()
    assert len(backend.predictions) == 1  # the link is applied once per session


def test_link_with_genres_opens_with_their_starter_list(app: AppTest, backend: FakeBackend) -> None:
    app.query_params["genres"] = "fantasy, young-adult,fantasy"
    app.run()

    assert not app.exception
    assert app.pills(key="picked_genres").value == ["fantasy", "young-adult"]
    request = backend.requests[-1]
    assert (request.items, request.genres) == ([], ["fantasy", "young-adult"])
    assert card_titles(app)


def test_link_with_backend_down_explains_instead_of_crashing(app: AppTest, backend: FakeBackend) -> None:
    backend.down = True
    app.query_params["books"] = "7"
    app.run()

    assert not app.exception
    assert "isn't answering" in app.error[0].value
    assert [b.title for b in app.session_state[SHELF]] == ["Book #7"]


def test_page_over_http_with_its_own_client(monkeypatch: pytest.MonkeyPatch, stub_server: StubServer) -> None:
    """No fake injected: the page builds its HTTP client from READCRUMBS_API_URL."""
    monkeypatch.setenv("READCRUMBS_API_URL", stub_server.url)
    app = AppTest.from_file(str(APP_PATH), default_timeout=20)
    app.query_params["books"] = "7"
    app.run()

    assert not app.exception and isinstance(app.session_state["backend"], HttpBackend)
    request_id = app.session_state[OUTCOME].recommendations.request_id
    app.button(key=f"like-{request_id}-0").click().run()
    app.run()

    assert [(f["request_id"], f["position"], f["feedback"]) for f in stub_server.backend.feedback] == [
        (request_id, 0, 1)
    ]
    assert [r.path for r in stub_server.backend.requests].count("/predict") == 1
