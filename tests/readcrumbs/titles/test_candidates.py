"""The trigram candidate index and the text helpers the title keys are built from."""

from __future__ import annotations

from readcrumbs.text import acronym, main_title, normalize_title, numbers_as_digits, strip_note
from readcrumbs.titles.candidates import CandidateIndex, trigrams

NAMES = ["hobbit", "catching fire", "hunger games", "very hungry caterpillar board book", "dune messiah"]


def test_trigrams_are_padded_so_word_edges_count():
    assert trigrams("ab") == {" ab", "ab "}


def test_a_typo_keeps_the_right_name_among_the_candidates():
    index = CandidateIndex(NAMES)
    assert NAMES[index.candidates("catchng fire")[0]] == "catching fire"
    assert NAMES[index.candidates("hungry caterpilar")[0]] == "very hungry caterpillar board book"


def test_candidates_are_limited_and_need_shared_trigrams():
    index = CandidateIndex(NAMES)
    assert len(index.candidates("hunger games catching fire", limit=1)) == 1
    assert index.candidates("qqqqqq") == []
    assert index.candidates("zzz xq") == []  # no trigram of it occurs


def test_common_trigrams_do_not_decide_alone():
    names = [f"the {word}" for word in ("alpha", "bravo", "charlie", "delta")] * 20 + ["the hobbit"]
    index = CandidateIndex(names)
    assert names[index.candidates("the hobit")[0]] == "the hobbit"


def test_a_query_whose_only_trigram_is_common_is_no_error():
    # "Then 1" read as "the 1": the one trigram of "1", " 1 ", is in many names. Leaving the
    # common lists out used to leave no list to count, and resolving the title raised ValueError.
    names = [f"saga {word} 1" for word in ("alpha", "bravo", "charlie", "delta", "echo")] * 10
    index = CandidateIndex(names)
    assert index.candidates("1") == []  # one trigram in common is no typo of any of them


def test_text_helpers():
    assert strip_note("Catching Fire (The Hunger Games, #2)") == "Catching Fire"
    assert strip_note("Emma") == "Emma"
    assert main_title("Unbroken: A World War II Story") == "Unbroken"
    assert main_title("Star Wars - Episode I (Star Wars, #1)") == "Star Wars"
    assert main_title("Catch-22") == "Catch-22"  # a hyphen inside a word is no subtitle
    assert acronym("lord of the rings") == "lotr"
    assert normalize_title("a_b  --  c") == "a_b c"
    assert normalize_title("Angels & Demons") == normalize_title("angels and demons") == "angels and demons"
    assert normalize_title("Q&A") == "q and a"
    assert normalize_title("Ender’s Game") == normalize_title("Enders Game") == "enders game"
    assert normalize_title("20,000 Leagues") == "20000 leagues"
    assert numbers_as_digits("one hundred years of solitude") == "100 years of solitude"
    assert numbers_as_digits("catch twenty two") == numbers_as_digits("catch 22") == "catch 22"
    assert numbers_as_digits("nineteen eighty four") == "19 84"  # no one number: several
    assert numbers_as_digits("one one") == "1 1"
    assert numbers_as_digits("twenty thousand leagues") == "20000 leagues"
    assert numbers_as_digits("the fifth wave") == "the 5th wave"
    assert numbers_as_digits("zero to one") == "0 to 1"
