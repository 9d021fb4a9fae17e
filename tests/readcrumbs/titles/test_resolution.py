"""Every resolution step on a tiny catalogue, and issue 11's examples as regression tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from readcrumbs.catalogue import Catalogue, MatchKind
from tests.readcrumbs.titles.tiny import BOOKS, columns, tiny_titles_catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return tiny_titles_catalogue()


def resolved(catalogue: Catalogue, typed: str) -> tuple[int, MatchKind] | None:
    match = catalogue.match(typed)
    return None if match is None else (match.book.book_id, match.kind)


# issue 11: each of these was unknown or the wrong book.
@pytest.mark.parametrize(
    ("typed", "book_id", "kind"),
    [
        ("The Very Hungry Caterpillar", 296, MatchKind.ORIGINAL),
        ("harry poter 1", 2, MatchKind.SERIES),
        ("hunger games 2", 17, MatchKind.SERIES),
        ("Twilight", 3, MatchKind.NORMALIZED),
        ("Dune by Frank Herbert", 126, MatchKind.BY_AUTHOR),
        ("Unbroken", 144, MatchKind.MAIN_TITLE),
        ("Harry Potter and the Philosopher's Stone", 2, MatchKind.ORIGINAL),
    ],
)
def test_issue_11_examples_resolve_to_the_right_book(catalogue, typed, book_id, kind):
    assert resolved(catalogue, typed) == (book_id, kind)


@pytest.mark.parametrize(
    ("typed", "book_id", "kind"),
    [
        ("Twilight (Twilight, #1)", 3, MatchKind.EXACT),
        ("twilight (twilight #1)", 3, MatchKind.NORMALIZED),  # case and punctuation
        ("Hobbit", 7, MatchKind.NORMALIZED),  # leading article
        ("Catching Fire", 17, MatchKind.NORMALIZED),  # series note left off
        ("Dune Messiah", 1105, MatchKind.NORMALIZED),
        ("The Hobbit or There and Back Again", 7, MatchKind.ORIGINAL),
        ("Unbroken", 144, MatchKind.MAIN_TITLE),
        ("catching fire by suzanne collins", 17, MatchKind.BY_AUTHOR),
        ("Catching Fire by Collins", 17, MatchKind.BY_AUTHOR),  # the surname alone
        ("Dune by Frank Herbet", 126, MatchKind.BY_AUTHOR),  # a typo in the author
        ("Dune Mesiah by Frank Herbert", 1105, MatchKind.BY_AUTHOR),  # a typo in the title
        ("Unbroken by Laura Hillenbrand", 144, MatchKind.BY_AUTHOR),  # a main title
        ("Suzanne Collins – Catching Fire", 17, MatchKind.BY_AUTHOR),
        ("Frank Herbert - Dune", 126, MatchKind.BY_AUTHOR),
        ("Dune — Frank Herbert", 126, MatchKind.BY_AUTHOR),
        ("Dune Frank Herbert", 126, MatchKind.BY_AUTHOR),  # no word between title and author
        ("catching fire collins", 17, MatchKind.BY_AUTHOR),
        ("Frank Herbert Dune Messiah", 1105, MatchKind.BY_AUTHOR),
        ("suzanne collins the hunger games", 1, MatchKind.BY_AUTHOR),  # the title's article
        ("Dune Mesiah Frank Herbert", 1105, MatchKind.BY_AUTHOR),  # a typo in the title
        ("hunger games catching fire", 17, MatchKind.SERIES),  # the series, then the title
        ("The Lord of the Rings The Two Towers", 155, MatchKind.SERIES),
        ("lotr two towers", 155, MatchKind.SERIES),
        ("Dune (2005)", 126, MatchKind.NORMALIZED),  # a note the reader added
        ("Catching Fire (paperback) (2009)", 17, MatchKind.NORMALIZED),
        ("Dune Messiah (Frank Herbert)", 1105, MatchKind.BY_AUTHOR),
        ("harry potter #1", 2, MatchKind.SERIES),  # not the #1-6 box set
        ("Harry Potter book 2", 23, MatchKind.SERIES),
        ("harry potter book two", 23, MatchKind.SERIES),  # the volume in words
        ("Harry Potter II", 23, MatchKind.SERIES),  # or in Roman numerals
        ("hunger games one", 1, MatchKind.SERIES),
        ("The Hunger Games, #1", 1, MatchKind.SERIES),
        ("the two towers lotr 2", 155, MatchKind.SERIES),
        ("lotr 1", 19, MatchKind.SERIES),  # a series acronym
        ("The Fellowship of the", 19, MatchKind.PARTIAL),
        ("the very hungry caterpillar board", 296, MatchKind.PARTIAL),
        ("Catchng Fire", 17, MatchKind.FUZZY),
        ("teh hunger gmes", 1, MatchKind.FUZZY),  # a slip in "the" too
        ("Fire Catching", 17, MatchKind.FUZZY),  # swapped words
        ("the very hungry caterpilar board", 296, MatchKind.FUZZY),  # partial with a typo
    ],
)
def test_each_form_resolves(catalogue, typed, book_id, kind):
    assert resolved(catalogue, typed) == (book_id, kind)


def test_confidence_is_100_for_look_ups_and_lower_for_guesses(catalogue):
    assert catalogue.match("Catching Fire").confidence == 100.0
    assert catalogue.match("Unbroken").confidence < 100.0
    fuzzy = catalogue.match("Catchng Fire")
    assert catalogue.fuzzy_threshold <= fuzzy.confidence < 100.0


def test_a_note_left_off_is_a_guess(catalogue):
    assert catalogue.match("Dune (2005)").confidence == 95.0
    assert catalogue.match("Dune Messiah (Frank Herbert)").confidence == 100.0  # an author, not a note


def test_a_shared_title_picks_the_best_known_book_and_lists_the_others(catalogue):
    match = catalogue.match("Twilight")
    assert match.book.book_id == 3
    assert [book.book_id for book in match.alternatives] == [4234]


def test_a_shared_fuzzy_name_picks_the_best_known_book(catalogue):
    # "The Hobbit" (title of 7, original title of 466): the typo resolves to the one readers know.
    match = catalogue.match("hobit")
    assert (match.book.book_id, match.kind) == (7, MatchKind.FUZZY)
    assert 466 in [book.book_id for book in match.alternatives]


@pytest.mark.parametrize(
    "typed",
    [
        "Harry Potter",  # a series, not one book: suggestions instead
        "Harry Potter and the",  # the start of several titles
        "Dune by Stephen King",  # a real title by the wrong author
        "Catching Fire by Frank Herbert",
        "Catching Fire Frank Herbert",  # the same without "by"
        "Frank Herbert Twilight",
        "hunger games dune",  # a title, but not of that series
        "(2005)",  # a note and nothing else
        "Dawn To (2005)",
        "harry potter 9",  # no such volume
        "harry potter nine",
        "Dawn To",
        "Dr Half",
        "Shadows of the Silver Garden",
        "qqqqqqqq",
        "?!",
    ],
)
def test_wrong_is_worse_than_unknown(catalogue, typed):
    assert catalogue.match(typed) is None


def test_unknown_items_get_suggestions(catalogue):
    assert catalogue.resolve(["Harry Potter"]).unknown == ["Harry Potter"]
    suggestions = catalogue.suggest("Harry Potter")
    assert suggestions and all(title.startswith("Harry Potter") for title in suggestions)


def test_the_fuzzy_threshold_is_a_setting():
    strict = Catalogue.from_columns(columns(), fuzzy_threshold=99.0)
    assert strict.match("Catchng Fire") is None
    assert strict.match("Catching Fire") is not None
    with pytest.raises(ValueError, match=r"0\.\.100"):
        Catalogue.from_columns(columns(), fuzzy_threshold=101.0)


def test_dict_steps_alone_when_fuzzy_is_off(catalogue):
    assert catalogue.match("Catchng Fire", fuzzy=False) is None
    assert resolved(catalogue, "Catching Fire") == (17, MatchKind.NORMALIZED)
    assert catalogue.match("Unbroken", fuzzy=False) is not None


def test_book_ids_and_digit_strings(catalogue):
    assert catalogue.match(126).kind is MatchKind.BOOK_ID
    assert resolved(catalogue, "126") == (126, MatchKind.BOOK_ID)
    assert catalogue.match("99999") is None


def test_from_columns_takes_plain_sequences_and_missing_values():
    books = BOOKS[:2]
    plain = columns(books)
    plain["year"] = [None, float("nan")]
    plain["original_title"] = [None, "Harry Potter and the Philosopher's Stone"]
    catalogue = Catalogue.from_columns(plain)
    assert catalogue.book(1).year is None and catalogue.book(1).original_title == ""
    assert catalogue.match("Harry Potter and the Philosopher's Stone").book.book_id == 2
    minimal = Catalogue.from_columns({"book_id": [5], "title": ["Emma"]})
    assert minimal.match("emma").book.book_id == 5


def test_the_catalogue_does_not_import_pandas():
    code = "import sys, readcrumbs.catalogue; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_search_puts_the_book_the_query_names_first(catalogue):
    assert catalogue.search("hungry caterpilar")[0].book_id == 296
    assert catalogue.search("herbert dune")[0].book_id == 126
    assert catalogue.search("the two towers lotr 2")[0].book_id == 155
    assert [book.book_id for book in catalogue.search("tolkein")][:1] == [7]  # best known first


def test_genres_are_counted_most_books_first(catalogue):
    assert catalogue.genres() == [("fantasy", 3)]


def test_a_series_named_outright_beats_one_its_name_is_the_acronym_of():
    books = [
        (1, "The Edge of Never (The Edge of Never, #1)", "J.A. Redmerski", "", 90000, 50),
        (2, "Eon: Dragoneye Reborn (Eon, #1)", "Alison Goodman", "", 30000, 10),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    match = catalogue.match("Eon #1")
    assert (match.book.book_id, match.kind, match.confidence) == (2, MatchKind.SERIES, 100.0)
    assert catalogue.match("eon 1").book.book_id == 2
    assert catalogue.match("edge of never 1").book.book_id == 1


def test_a_surname_alone_beside_a_mistyped_title_is_no_author():
    books = [
        (1, "The Glass Magician (The Paper Magician, #2)", "Charlie N. Holmberg", "", 30000, 20),
        (2, "Magician: Apprentice", "Bryan J.L. Glass, Raymond E. Feist", "", 9000, 5),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    match = catalogue.match("The Glass Magicia")
    assert (match.book.book_id, match.kind) == (1, MatchKind.FUZZY)
    assert resolved(catalogue, "glass magician") == (1, MatchKind.NORMALIZED)
    assert resolved(catalogue, "magician glass") == (2, MatchKind.BY_AUTHOR)  # typed right: the author's
    assert resolved(catalogue, "magicia bryan j l glass") == (2, MatchKind.BY_AUTHOR)  # a full name


def test_a_typed_number_is_no_slip_of_a_letter():
    books = [
        (1, "Percy Jackson's Greek Gods", "Rick Riordan", "", 50000, 20),
        (2, "The Lightning Thief (Percy Jackson and the Olympians, #1)", "Rick Riordan", "", 90000, 60),
        (3, "Fahrenheit 451", "Ray Bradbury", "", 80000, 50),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    assert catalogue.match("percy jackson 2") is None  # not "percy jackson s" with one slip
    assert resolved(catalogue, "percy jackson's greek gods") == (1, MatchKind.NORMALIZED)
    assert resolved(catalogue, "fahrenheit 415") == (3, MatchKind.FUZZY)  # digits typed out of order


def test_a_series_note_is_no_part_of_a_title_beside_the_series():
    books = [
        (205, "Interview with the Vampire (The Vampire Chronicles, #1)", "Anne Rice", "", 400000, 60),
        (
            9044,
            "Vampire Chronicles: Interview with the Vampire, The Vampire Lestat, The Queen of the Damned",
            "Anne Rice",
            "",
            9000,
            5,
        ),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    assert resolved(catalogue, "vampire chronicles interview with the vampire") == (205, MatchKind.SERIES)
    # Not 205's title followed by the start of its note: the first words of 9044's title.
    typed = "Vampire Chronicles: Interview with the Vampire, The Vampire"
    assert resolved(catalogue, typed) == (9044, MatchKind.PARTIAL)


def test_numbers_are_read_in_words_and_in_digits():
    books = [
        (1, "Thirteen Reasons Why", "Jay Asher", "", 500000, 60),
        (2, "Catch-22", "Joseph Heller", "", 600000, 60),
        (3, "One Hundred Years of Solitude", "Gabriel García Márquez", "Cien años de soledad", 500000, 60),
        (4, "The 5th Wave (The 5th Wave, #1)", "Rick Yancey", "", 300000, 50),
        (5, "Second Chance", "Jane Green", "", 10000, 10),
        (6, "2nd Chance (Women's Murder Club, #2)", "James Patterson", "", 90000, 40),
        (7, "Twenty Thousand Leagues Under the Sea", "Jules Verne", "", 200000, 40),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    assert resolved(catalogue, "13 reasons why") == (1, MatchKind.NORMALIZED)
    assert resolved(catalogue, "catch twenty two") == (2, MatchKind.NORMALIZED)
    assert resolved(catalogue, "Catch twenty-two") == (2, MatchKind.NORMALIZED)
    assert resolved(catalogue, "100 years of solitude") == (3, MatchKind.NORMALIZED)
    assert resolved(catalogue, "the fifth wave") == (4, MatchKind.NORMALIZED)
    assert resolved(catalogue, "20,000 leagues under the sea") == (7, MatchKind.NORMALIZED)
    # A title written in words keeps its own key: "second chance" is book 5, not the more popular 6.
    assert resolved(catalogue, "second chance") == (5, MatchKind.NORMALIZED)
    assert resolved(catalogue, "2nd chance") == (6, MatchKind.NORMALIZED)
    # A slip in a number's word is still a typo of the title written in words.
    assert resolved(catalogue, "thirten reasons why") == (1, MatchKind.FUZZY)


def test_apostrophes_left_out_are_no_obstacle():
    books = [
        (1, "Ender's Game (Ender's Saga, #1)", "Orson Scott Card", "Ender's Game", 900000, 60),
        (2, "Ender's Shadow (The Shadow Series, #1)", "Orson Scott Card", "", 200000, 40),
        (
            3,
            "The Hitchhiker's Guide to the Galaxy (Hitchhiker's Guide to the Galaxy, #1)",
            "Douglas Adams",
            "",
            1e6,
            60,
        ),
        (4, "The Hitchhiker's Guide to the Galaxy: The Trilogy of Four", "Douglas Adams", "", 9000, 5),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    assert resolved(catalogue, "Enders Game") == (1, MatchKind.NORMALIZED)
    assert resolved(catalogue, "enders shadow") == (2, MatchKind.NORMALIZED)
    assert resolved(catalogue, "Hitchhikers Guide to the Galaxy") == (3, MatchKind.NORMALIZED)
    assert resolved(catalogue, "Ender’s Game") == (1, MatchKind.NORMALIZED)  # a typographic apostrophe
    assert resolved(catalogue, "enders saga 1") == (1, MatchKind.SERIES)


def test_a_title_after_its_series_name_names_the_book(catalogue):
    assert resolved(catalogue, "Chamber of Secrets") == (23, MatchKind.MAIN_TITLE)
    assert resolved(catalogue, "Sorcerer's Stone") == (2, MatchKind.MAIN_TITLE)
    assert resolved(catalogue, "sorcerers stone") == (2, MatchKind.MAIN_TITLE)
    books = [
        (1, "Theodore Boone: Kid Lawyer (Theodore Boone, #1)", "John Grisham", "", 50000, 30),
        (2, "Saga, Vol. 1 (Saga, #1)", "Brian K. Vaughan", "", 90000, 50),
        (3, "Anna Dressed in Blood (Anna, #1)", "Kendare Blake", "", 90000, 50),
        (4, "Ramona and Her Mother (Ramona, #5)", "Beverly Cleary", "", 20000, 10),
        (
            5,
            "Harry Potter and the Cursed Child - Parts One and Two (Harry Potter, #8)",
            "J.K. Rowling",
            "",
            1,
            1,
        ),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    assert resolved(catalogue, "Kid Lawyer") == (1, MatchKind.MAIN_TITLE)
    assert resolved(catalogue, "The Cursed Child") == (5, MatchKind.MAIN_TITLE)  # its subtitle left off
    # A volume number is no title, and a series named by one word is as often a character.
    assert catalogue.match("Vol. 1", fuzzy=False) is None
    assert catalogue.match("Dressed in Blood", fuzzy=False) is None
    assert catalogue.match("Her Mother", fuzzy=False) is None


def test_a_librarys_inverted_article_and_unbracketed_notes(catalogue):
    assert resolved(catalogue, "Hobbit, The") == (7, MatchKind.NORMALIZED)
    assert resolved(catalogue, "Two Towers, The") == (155, MatchKind.NORMALIZED)
    # Edition words and a year after the title, no brackets: a guess (the words were ignored).
    for typed in ("the hobbit book", "Dune 1965", "Dune: a novel", "Catching Fire paperback"):
        match = catalogue.match(typed)
        assert match is not None and match.confidence <= 95, typed
    assert resolved(catalogue, "Dune 1965") == (126, MatchKind.NORMALIZED)
    # A title that ends in "Book", with a note in brackets: the note goes, the title stays whole.
    assert resolved(catalogue, "The Very Hungry Caterpillar Board Book (paperback)") == (296, MatchKind.EXACT)
    # "Harry Potter" is a series, not a book: what is left of "harry potter book" stays unknown.
    assert catalogue.match("harry potter book") is None


def test_readers_short_names_for_a_series_and_its_authors():
    books = [
        (1, "Percy Jackson's Greek Gods", "Rick Riordan", "", 50000, 20),
        (2, "The Lightning Thief (Percy Jackson and the Olympians, #1)", "Rick Riordan", "", 90000, 60),
        (3, "The Sea of Monsters (Percy Jackson and the Olympians, #2)", "Rick Riordan", "", 80000, 55),
        (
            4,
            "Harry Potter and the Goblet of Fire (Harry Potter, #4)",
            "J.K. Rowling, Mary GrandPré",
            "",
            1,
            1,
        ),
        (5, "A Game of Thrones (A Song of Ice and Fire, #1)", "George R.R. Martin", "", 1, 1),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    # "Percy Jackson and the Olympians" is "Percy Jackson" to its readers: a guess, as an acronym.
    match = catalogue.match("percy jackson 1")
    assert match is not None and (match.book.book_id, match.kind, match.confidence) == (
        2,
        MatchKind.SERIES,
        95,
    )
    assert resolved(catalogue, "Percy Jackson and the Lightning Thief") == (2, MatchKind.SERIES)
    assert resolved(catalogue, "percy jackson sea of monsters") == (3, MatchKind.SERIES)
    assert resolved(catalogue, "Percy Jackson 2: The Sea of Monsters") == (3, MatchKind.SERIES)
    assert resolved(catalogue, "Harry Potter Book 4 - Goblet of Fire") == (4, MatchKind.SERIES)
    assert catalogue.match("percy jackson") is None  # a series, not a book
    # Initials run together, and a title by what follows its series' name, beside the author.
    assert resolved(catalogue, "goblet of fire jk rowling") == (4, MatchKind.BY_AUTHOR)
    assert resolved(catalogue, "game of thrones george rr martin") == (5, MatchKind.BY_AUTHOR)
    assert resolved(catalogue, "jrr tolkien the hobbit") is None  # no such author here


def test_a_titles_last_words_beside_its_author():
    books = [
        (1, "To Kill a Mockingbird", "Harper Lee", "", 3000000, 60),
        (2, "Go Set a Watchman", "Harper Lee", "", 100000, 20),
        (3, "The Great Gatsby", "F. Scott Fitzgerald", "", 2700000, 60),
    ]
    catalogue = Catalogue.from_columns(columns(books))
    for typed, book_id in (
        ("mockingbird harper lee", 1),
        ("gatsby fitzgerald", 3),
        ("watchman by harper lee", 2),
    ):
        match = catalogue.match(typed)
        assert match is not None and (match.book.book_id, match.kind, match.confidence) == (
            book_id,
            MatchKind.BY_AUTHOR,
            95,
        ), typed
    assert catalogue.match("bird harper lee") is None  # the last words, not the end of a word
