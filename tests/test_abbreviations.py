"""Abbreviations the documents define themselves (Schwartz-Hearst), and their use in search."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.service import Styrdok
from rag.settings import Settings
from rag.store.embeddings import Embedder
from rag.text.abbreviations import find_definitions, long_form


@pytest.mark.parametrize(("text", "short", "long"), [
    ("genom allmäntjänstgöring (AT), bastjänstgöring (BT) och specialisering",
     "bt", "bastjänstgöring"),
    ("När det gäller barnmorskemottagning (BMM) ska läkaren", "bmm", "barnmorskemottagning"),
    ("Staten och Sveriges Kommuner och\nLandsting (SKL) har tecknat", "skl",
     "sveriges kommuner och landsting"),
    ("enligt hälso- och sjukvårdslagen (HSL) ska", "hsl", "hälso- och sjukvårdslagen"),
    ("Regionen erbjuder SIP (samordnad individuell plan) till alla.", "sip",
     "samordnad individuell plan"),
])
def test_a_defined_abbreviation_is_found_with_its_long_form(text: str, short: str,
                                                             long: str) -> None:
    assert find_definitions(text) == {short: {long}}


def test_the_long_form_is_the_shortest_run_of_words_that_spells_the_short_form() -> None:
    assert long_form("MBT", "ett nytt arbetssätt med medicinskt bedömningsteam".split()) == \
        "medicinskt bedömningsteam"
    assert long_form("XYZ", "inga sådana bokstäver här".split()) is None


@pytest.mark.parametrize("text", [
    "Riksdagens ombudsmän (JO) granskar",  # "jo" is a common Swedish word
    "som omfattas av rådets förordning (EEG)",  # no word starts with e
    "Telefon (08) 123 45 67",  # not letters
    "I tabellen (se nedan) visas",  # not a short form
    "Se bilaga (A)",  # one letter
])
def test_what_is_not_a_definition_is_not_taken(text: str) -> None:
    assert find_definitions(text) == {}


DEFINES = ("Vårdcentralen ska delta i den regionala kvalitetsgruppen (RKG) "
           "och rapportera till den.\n")
USES_THE_LONG_FORM = ("Regionala kvalitetsgruppen sammanträder fyra gånger per år "
                      "och följer upp vårdcentralernas resultat.\n")
UNRELATED = "Jourcentralen har öppet lördagar och söndagar mellan klockan 9 och 15.\n"


def test_a_query_with_an_abbreviation_finds_the_passage_that_only_spells_it_out(
        tmp_path: Path, embedder: Embedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "testland_avtal.txt").write_text(DEFINES, encoding="utf-8")
    (folder / "testland_kvalitet.txt").write_text(USES_THE_LONG_FORM, encoding="utf-8")
    (folder / "testland_jour.txt").write_text(UNRELATED, encoding="utf-8")
    service = Styrdok(Settings(data_dir=tmp_path / "data"), embedder)
    service.ingest([folder])

    found = [hit.chunk.document for hit in service.search("hur ofta möts rkg?", k=5,
                                                          mode="bm25")]
    assert "testland_kvalitet" in found
    assert "testland_jour" not in found
    assert service.store.snapshot().abbreviations()["rkg"] == ("regionala kvalitetsgruppen",)

    # The definition goes with the document that made it.
    assert service.remove("testland_avtal") is True
    assert "rkg" not in service.store.snapshot().abbreviations()
    assert service.search("hur ofta möts rkg?", k=5, mode="bm25") == []
