"""Swedish lexical analysis for BM25: stems, stop words, compounds, abbreviations, typos."""

from __future__ import annotations

import numpy as np
import pytest

from rag.store.bm25 import LexicalIndex
from rag.text.fold import fold
from rag.text.lexical import (
    STOP_WORDS,
    analyze,
    analyze_query,
    correct_typo,
    query_words,
    restore_marks,
    split_compound,
    within_one_edit,
)
from rag.text.vocabulary import Vocabulary

PASSAGES = [
    "Vårdcentralen ska ha öppet vardagar mellan klockan 8 och 17.",
    "Labbet analyserar prover och svaren skickas till vårdcentralen.",
    "Ansvara för gynekologisk cellprovstagning för kvinnor mellan 23 och 64 års ålder.",
    "Behovet av läkarinsats på barnmorskemottagningen beräknas till 3 timmar per vecka.",
    "Läkare ska medverka i särskilt boende minst 1 timme för 10 boende per vecka.",
]


# How documents define their abbreviations; the analyzer learns them from text like this.
DEFINITIONS = [
    "Barnhälsovård (BVC) och barnmorskemottagning (BMM) är tilläggsuppdrag.",
    "Ungdomsmottagning (UMM) för unga vuxna.",
    "Vårdcentralen ska ha ett medicinskt bedömningsteam (MBT).",
    "Läkare på särskilt boende för äldre (SÄBO) ska avsätta tid.",
]
VOCABULARY = Vocabulary.from_texts([*PASSAGES, *DEFINITIONS])


def ranking(query: str, passages: list[str] = PASSAGES,
            vocabulary: Vocabulary | None = VOCABULARY) -> list[int]:
    index = LexicalIndex.build([analyze(passage) for passage in passages])
    scores = index.scores(analyze_query(query, "sv", vocabulary))
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
    assert set(analyze_query(abbreviation, "sv", VOCABULARY)) & set(analyze(spelled))
    assert set(analyze_query(spelled, "sv", VOCABULARY)) & set(analyze(abbreviation))


def test_abbreviations_are_learned_from_the_documents_definitions() -> None:
    learned = Vocabulary.from_texts(DEFINITIONS).abbreviations
    assert learned["bmm"] == ("barnmorskemottagning",)
    assert "barnhälsovård" in learned["bvc"]
    assert learned["mbt"] == ("medicinskt bedömningsteam",)
    assert learned["säbo"] == ("särskilt boende för äldre",)
    # Without the definitions there is nothing to learn: no hand list stands in for them.
    assert "bmm" not in Vocabulary.from_texts(PASSAGES).abbreviations


def test_folding_makes_marks_optional_on_both_sides() -> None:
    assert fold("Läkartid på vårdcentralen") == "lakartid pa vardcentralen"
    assert set(analyze("läkartid")) == set(analyze_query("lakartid", "sv", VOCABULARY))


@pytest.mark.parametrize(("typed", "meant", "how"), [
    ("vardcentralen", "vårdcentralen", "restored"),  # marks left out
    ("labbett", "labbet", "typo"),  # one letter too many, against the corpus's own words
    ("barnmorskemotagningen", "barnmorskemottagningen", "typo"),  # a letter dropped
    ("gynekologisk", "gynekologisk", "as-typed"),
    ("cellprovtagningn", "cellprovstagning", "unknown"),  # two edits: left alone
])
def test_query_words_are_mapped_to_the_corpus_spelling(typed: str, meant: str,
                                                       how: str) -> None:
    vocabulary = Vocabulary.from_texts([*PASSAGES, "barnmorskemottagningen"])
    normalized = vocabulary.normalize(typed)
    assert normalized.how == how
    if how != "unknown":
        assert normalized.word == meant


def test_a_compound_of_corpus_words_typed_without_marks_brings_its_parts() -> None:
    vocabulary = Vocabulary.from_texts(["Läkare ska finnas.", "Tre timmar per vecka."])
    normalized = vocabulary.normalize("lakartimmar")
    assert normalized.how == "compound"
    assert normalized.parts == ("läkar", "timmar")


def test_general_swedish_marks_are_restored_when_the_corpus_lacks_the_word() -> None:
    assert restore_marks("forsvann") == "försvann"
    assert restore_marks("patient") is None  # a word as typed is left alone


def test_a_typo_corrected_word_counts_as_covered() -> None:
    found = dict(query_words("läkarinsatts på barnmorskemottagningen", "sv", VOCABULARY))
    assert "läkarinsats" in found  # corrected against the corpus, then matched as itself


def test_säbo_finds_särskilt_boende_passage() -> None:
    assert ranking("SÄBO")[0] == 4
    assert ranking("sabo")[0] == 4  # typed without the mark


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
