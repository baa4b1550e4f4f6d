"""Swedish lexical analysis for BM25: stems, stop words, compounds, abbreviations, typos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.store.bm25 import LexicalIndex
from rag.text.lexical import (
    EN_TO_SV,
    STOP_WORDS,
    analyze,
    analyze_query,
    cognate_prefixes,
    correct_typo,
    is_mistyped_stop_word,
    query_words,
    read_glossary,
    split_compound,
    swedish_forms,
    within_one_edit,
)

PASSAGES = [
    "Vårdcentralen ska ha öppet vardagar mellan klockan 8 och 17.",
    "Labbet analyserar prover och svaren skickas till vårdcentralen.",
    "Ansvara för gynekologisk cellprovstagning för kvinnor mellan 23 och 64 års ålder.",
    "Behovet av läkarinsats på barnmorskemottagningen beräknas till 3 timmar per vecka.",
    "Läkare ska medverka i särskilt boende minst 1 timme för 10 boende per vecka.",
]


def ranking(query: str, passages: list[str] = PASSAGES) -> list[int]:
    index = LexicalIndex.build([analyze(passage) for passage in passages])
    scores = index.scores(analyze_query(query))
    return [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]


@pytest.mark.parametrize(("compound", "parts"), [
    ("cellprovstagning", ("cell", "prov", "tagning")),
    ("vårdcentral", ("vård", "central")),
    ("ungdomsmottagning", ("ungdom", "mottagning")),
    ("hälsoundersökning", ("hälso", "undersökning")),
    ("vårdgaranti", ("vård", "garanti")),
    ("läkartid", ("läkar", "tid")),
])
def test_split_compound_finds_the_parts_without_linking_letters(compound: str,
                                                                parts: tuple[str, ...]) -> None:
    assert split_compound(compound) == parts


@pytest.mark.parametrize("word", ["barnen", "patient", "vecka", "kvinnor", "timmar"])
def test_split_compound_keeps_ordinary_words_whole(word: str) -> None:
    assert split_compound(word) == (word,)


def test_query_for_a_compound_part_meets_the_compound() -> None:
    """Snowball alone leaves 'cellprovstagning' whole, so 'provtagning' would not match it."""
    query = analyze_query("provtagning")
    indexed = analyze("cellprovstagning")

    assert query[0] == "provtagning"  # the query's own whole-word stem …
    assert "provtagning" in indexed  # … is indexed as the compound's tail
    assert "cellprovstagning" in indexed  # and the whole word is still there


def test_bm25_ranks_the_compound_passage_first_for_its_part() -> None:
    assert not any("provtagning" in passage.split() for passage in PASSAGES)
    order = ranking("provtagning")
    assert order[0] == 2


def test_bm25_finds_the_compound_for_a_different_part() -> None:
    assert ranking("cellprov")[0] == 2


@pytest.mark.parametrize(("abbreviation", "spelled"), [
    ("BMM", "barnmorskemottagning"),
    ("UMM", "ungdomsmottagning"),
    ("BVC", "barnhälsovård"),
    ("MBT", "medicinskt bedömningsteam"),
])
def test_abbreviation_and_spelled_out_form_meet_in_both_directions(abbreviation: str,
                                                                   spelled: str) -> None:
    assert set(analyze_query(abbreviation)) & set(analyze(spelled))
    assert set(analyze_query(spelled)) & set(analyze(abbreviation))


def test_säbo_finds_särskilt_boende_passage() -> None:
    assert ranking("SÄBO")[0] == 4


def test_bmm_query_finds_barnmorskemottagning_passage() -> None:
    assert ranking("läkartid BMM")[0] == 3


def test_stop_words_and_question_words_carry_no_terms() -> None:
    assert analyze("Hur många är det som ska finnas på den?") == []
    assert {"och", "att", "hur", "vad", "ska"} <= STOP_WORDS


@pytest.mark.parametrize(("indexed", "asked"), [
    ("timmar", "timme"), ("kvinnorna", "kvinnor"), ("besöken", "besök"), ("läkarna", "läkare"),
    ("vårdcentralen", "vårdcentraler"),
])
def test_stemming_matches_inflected_forms(indexed: str, asked: str) -> None:
    assert analyze(indexed)[0] == analyze_query(asked)[0]


def test_typo_correction_uses_the_swedish_lexicon() -> None:
    assert correct_typo("läkartd") == "läkartid"
    assert correct_typo("vårdcentral") is None  # a correct word is left alone
    assert correct_typo("bmm") is None  # too short to guess


def test_within_one_edit() -> None:
    assert within_one_edit("läkartd", "läkartid")
    assert within_one_edit("ungdomsmotagning", "ungdomsmottagning")
    assert within_one_edit("vårdcnetral", "vårdcentral")  # swapped letters
    assert not within_one_edit("läkare", "lärare och")


def test_english_question_words_bring_swedish_alternatives() -> None:
    found = dict(query_words("How many doctor hours per week?", "en"))
    assert set(found) >= {"doctor", "hours", "week"}
    hours = {term for alternative in found["hours"] for term in alternative}
    assert set(analyze("timmar")) <= hours


def test_a_spelled_out_phrase_brings_its_abbreviation_to_each_of_its_words() -> None:
    found = dict(query_words("Vem ska erbjudas en samordnad individuell plan?"))
    sip = tuple(analyze("sip"))
    assert all(sip in found[word] for word in ("samordnad", "individuell", "plan"))
    # The words alone, not as the phrase, are only themselves.
    alone = dict(query_words("En plan som är individuell och samordnad"))
    assert sip not in alone["plan"]


@pytest.mark.parametrize(("english", "swedish"), [
    ("psychologist", "psykolog"), ("qualification", "kvalifikation"),
    ("demographic", "demografisk"), ("practical", "praktisk"), ("medicine", "medicin")])
def test_an_english_loan_word_finds_its_swedish_spelling(english: str, swedish: str) -> None:
    assert swedish[:6] in cognate_prefixes(english)


def test_short_or_marked_words_have_no_cognate_prefixes() -> None:
    assert cognate_prefixes("care") == set() and cognate_prefixes("läkare") == set()


def test_the_glossary_file_is_read_and_the_hand_entries_win(tmp_path: Path) -> None:
    glossary = tmp_path / "glossary.tsv"
    glossary.write_text("# comment\nmunicipality\tkommun\nlicence\tlegitimation|leg\n\n"
                        "doctor\tdoktor\n", encoding="utf-8")
    assert read_glossary(glossary) == {"municipality": ("kommun",),
                                       "licence": ("legitimation", "leg"),
                                       "doctor": ("doktor",)}
    with pytest.raises(FileNotFoundError):
        read_glossary(tmp_path / "missing.tsv")  # a broken install fails loudly
    shipped = read_glossary()
    assert len(shipped) >= 400 and all(shipped.values())
    assert EN_TO_SV["municipality"] == shipped["municipality"]  # only the file has it
    assert EN_TO_SV["doctor"] == ("läkare", "läkar")  # the hand list wins


def test_an_english_plural_or_third_person_finds_the_glossary_base_form() -> None:
    assert "chats" not in EN_TO_SV and swedish_forms("chats") == EN_TO_SV["chat"]
    assert swedish_forms("priorities") == EN_TO_SV["priority"]
    assert swedish_forms("chooses") == EN_TO_SV["choose"]
    assert swedish_forms("doctors") == EN_TO_SV["doctors"]  # a listed form is used as it is
    assert swedish_forms("bus") == ()  # too short to be a plural of "bu"
    # The English question's terms then carry the Swedish form.
    assert "chatt" in analyze_query("How many chats were started?", "en")



def test_an_abbreviation_that_is_also_a_stop_word_counts_only_typed_in_capitals() -> None:
    """"AT" is allmäntjänstgöring; "at" is English "at" (or "åt" typed without its ring)."""
    asked = dict(query_words("finns det ett slutprov efter AT?"))
    assert ("allmäntjänstgöring", "allmän", "tjänstgöring") in asked["at"]
    assert "at" not in dict(query_words("vad ska vi göra at dem?"))
    assert "allmäntjänstgöring" in analyze_query("slutprov efter AT")
    assert "allmäntjänstgöring" not in analyze_query("Who works at the health centre?", "en")


@pytest.mark.parametrize(("word", "mistyped"), [
    ("dne", True), ("ohc", True), ("den", False), ("bmm", False), ("sip", False),
    ("vårdcentral", False), ("tre", False)])
def test_a_function_word_with_two_letters_swapped_is_that_word(word: str,
                                                                mistyped: bool) -> None:
    assert is_mistyped_stop_word(word) is mistyped


def test_a_mistyped_function_word_is_no_topic_of_the_question() -> None:
    question = "avgift för uteblivet besök, får man ta ut dne"
    weighed = [surface for surface, _ in query_words(question)]
    assert "dne" not in weighed and "avgift" in weighed
