"""Cleaning and structure-aware chunking, on the real corpus documents and on synthetic text."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from ingest.chunking import chunk_blocks
from ingest.clean import clean_blocks
from ingest.manifest import load_manifest, metadata_for
from ingest.readers import read_lines
from rag.models import Chunk, DocumentMeta
from rag.text.sentences import ITEM_PREFIX, split_sentences

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
VARMLAND = CORPUS / "varmland_forfragningsunderlag-vardval-vardcentral-del2.txt"
VGR = CORPUS / "vgr_fardplan-god-och-nara-vard.txt"
CORPUS_FILES = sorted(CORPUS.glob("*.txt"))
LEAD_IN_ENDS = (":", ";")
META = DocumentMeta(document="syntetisk", title="Syntetiskt dokument", region="Region Test")


@cache
def corpus_chunks(path: Path, max_chars: int = 900) -> tuple[Chunk, ...]:
    meta = metadata_for(path, load_manifest(path.parent))
    return tuple(chunk_blocks(clean_blocks(read_lines(path)), meta, max_chars))


def chunks_of(text: str, tmp_path: Path, max_chars: int = 900) -> list[Chunk]:
    path = tmp_path / "syntetisk.txt"
    path.write_text(text, encoding="utf-8")
    return chunk_blocks(clean_blocks(read_lines(path)), META, max_chars)


def only(chunks: tuple[Chunk, ...] | list[Chunk], needle: str) -> Chunk:
    found = [chunk for chunk in chunks if needle in chunk.text]
    assert len(found) == 1, f"{needle!r} in {len(found)} chunks"
    return found[0]


def letters(text: str) -> str:
    """Text without whitespace, hyphens and bullet glyphs: compares the source with a chunk
    across line-end joins and the chunk's normalised "• " item prefixes."""
    return re.sub(r"[\s\-•\uf0b7]+", "", text)


# --- the Värmland förfrågningsunderlag ----------------------------------------------------


def test_bmm_doctor_hours_chunk_is_in_section_1_2_3() -> None:
    chunk = only(corpus_chunks(VARMLAND), "3 timmar per vecka för 100 inskrivna gravida kvinnor")

    assert chunk.section == "1.2.3"
    assert chunk.heading.startswith("Barnhälsovård (BVC)")
    assert chunk.document == "varmland_forfragningsunderlag-vardval-vardcentral-del2"
    assert chunk.region == "Region Värmland"
    assert chunk.doc_type == "förfrågningsunderlag"
    assert chunk.title.startswith("Förfrågningsunderlag Vårdval vårdcentral")
    # The 1.2.4 section that follows in the source is not glued onto it.
    assert "Ungdomsmottagning" not in chunk.text


def test_cervical_screening_chunk_is_in_section_1_2_13() -> None:
    chunk = only(corpus_chunks(VARMLAND), "gynekologisk cellprovstagning")

    assert chunk.section == "1.2.13"
    assert chunk.heading == "Närområdesansvar"
    assert "kvinnor mellan 23 och 64 års ålder" in chunk.text
    assert "fram till 70 års ålder" in chunk.text


def test_page_furniture_is_gone_from_every_chunk() -> None:
    source = VARMLAND.read_text(encoding="utf-8")
    assert "Krav- och kvalitetsbok" in source and "17 (20)" in source  # the test means something

    for chunk in corpus_chunks(VARMLAND):
        assert "Krav- och kvalitetsbok" not in chunk.text
        assert "REGION VÄRMLAND" not in chunk.text
        assert not re.search(r"(?<![\d,.])\d{1,2} \(20\)", chunk.text), chunk.text


def test_a_line_broken_sentence_is_joined_in_the_chunk() -> None:
    chunk = only(corpus_chunks(VARMLAND), "gravida kvinnor")
    # In the source the sentence is split after "för 100" with a blank line in between.
    assert "beräknas till 3 timmar per vecka för 100 inskrivna gravida kvinnor." in chunk.text


def test_lead_in_stays_with_all_its_items() -> None:
    chunk = only(corpus_chunks(VGR), "Sex förändrade arbetssätt:")

    lines = chunk.text.split("\n")
    start = lines.index("Sex förändrade arbetssätt:")
    items = lines[start + 1:start + 7]
    assert [item.removeprefix(ITEM_PREFIX)[:3] for item in items] == \
        ["1. ", "2. ", "3. ", "4. ", "5. ", "6. "]
    assert items[0] == "• 1. Öka hälsofrämjande och förebyggande insatser"
    assert items[5] == "• 6. Utveckling av mobila team som stöd för vård i hemmet"


@pytest.mark.parametrize("max_chars", [900, 300])
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name.split("_")[0])
def test_chunks_respect_max_chars_except_single_long_units(path: Path, max_chars: int) -> None:
    chunks = corpus_chunks(path, max_chars)
    assert chunks
    for chunk in chunks:
        if len(chunk.text) > max_chars:
            assert is_single_unit(chunk.text), chunk.text


def is_single_unit(text: str) -> bool:
    """What the chunker cannot split: one sentence, a lead-in paragraph (ending in ':' or ';'),
    or one list item with at most its lead-in."""
    lines = text.split("\n")
    items = [line for line in lines if line.startswith(ITEM_PREFIX)]
    lead = lines[: len(lines) - len(items)]
    if len(lead) > 1 or len(items) > 1 or (items and lines[-1] != items[0]):
        return False
    if lead and items:
        return lead[0].endswith(LEAD_IN_ENDS)
    return bool(items) or len(split_sentences(text)) == 1 or text.endswith(LEAD_IN_ENDS)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name.split("_")[0])
def test_chunk_spans_point_at_their_source_text(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    chunks = corpus_chunks(path)
    ids = [chunk.chunk_id for chunk in chunks]
    assert len(set(ids)) == len(ids)
    for chunk in chunks:
        assert 1 <= chunk.line_start <= chunk.line_end
        assert 0 <= chunk.char_start < chunk.char_end <= len(source)
        span = letters(source[chunk.char_start:chunk.char_end])
        words = chunk.text.split()
        assert letters(" ".join(words[:3])) in span, (chunk.chunk_id, words[:3])
        assert letters(" ".join(words[-3:])) in span, (chunk.chunk_id, words[-3:])
        # Line numbers agree with the character offsets.
        assert source.count("\n", 0, chunk.char_start) + 1 == chunk.line_start


def test_chunks_are_numbered_in_document_order() -> None:
    chunks = corpus_chunks(VARMLAND)
    assert [int(chunk.chunk_id.split(":")[1]) for chunk in chunks] == list(range(len(chunks)))
    starts = [chunk.line_start for chunk in chunks]
    assert starts == sorted(starts)


# --- synthetic text: joins, hyphenation, bullets, sections --------------------------------


def test_hyphenated_line_ends_are_joined_but_hälso_och_keeps_its_hyphen(tmp_path: Path) -> None:
    [chunk] = chunks_of(
        "2.1 Tillgänglighet\n\n"
        "Vårdcentralen ska följa den nationella vård-\n"
        "garantin och erbjuda kontakt samma dag. Ansvaret gäller hälso- \n"
        "och sjukvård i hela närområdet.\n", tmp_path)

    assert chunk.text == ("Vårdcentralen ska följa den nationella vårdgarantin och erbjuda "
                          "kontakt samma dag. Ansvaret gäller hälso- och sjukvård i hela "
                          "närområdet.")
    assert (chunk.section, chunk.heading) == ("2.1", "Tillgänglighet")
    assert (chunk.line_start, chunk.line_end) == (3, 5)


@pytest.mark.parametrize("glyph", ["•", "\uf0b7", "o", "-", "▪"])
def test_bullet_glyphs_become_list_items(tmp_path: Path, glyph: str) -> None:
    [chunk] = chunks_of(
        "Vårdcentralen ska erbjuda:\n"
        f"{glyph} telefonrådgivning\n"
        f"{glyph} digitala besök\n"
        f"{glyph} hembesök vid behov\n", tmp_path)

    assert chunk.text == ("Vårdcentralen ska erbjuda:\n• telefonrådgivning\n• digitala besök\n"
                          "• hembesök vid behov")


def test_mixed_bullet_glyphs_and_wrapped_items(tmp_path: Path) -> None:
    [chunk] = chunks_of(
        "Vårdcentralen ska erbjuda:\n"
        "• telefonrådgivning alla vardagar mellan klockan 8 och 17 samt\n"
        "  lördagar före lunch\n"
        "\uf0b7 digitala besök\n"
        "o hembesök vid behov\n", tmp_path)

    assert chunk.text.split("\n") == [
        "Vårdcentralen ska erbjuda:",
        "• telefonrådgivning alla vardagar mellan klockan 8 och 17 samt lördagar före lunch",
        "• digitala besök",
        "• hembesök vid behov",
    ]


def test_an_item_with_an_open_parenthesis_carries_on_after_a_blank_line(
        tmp_path: Path) -> None:
    # The Halland report's "• Alt 1: N.N. (ekonomichefen eller⏎⏎motsvarande) intygar …": a
    # short unfinished item, then a short line, is one item, not two.
    [chunk] = chunks_of(
        "Granskning av redovisningen:\n"
        "• Alt 1: N.N. (ekonomichefen eller\n\n"
        "motsvarande) intygar att den\n"
        "ekonomiska redovisningen är korrekt.\n\n"
        "• Alt 2: N.N. bedömer inte att den är korrekt.\n", tmp_path)

    assert chunk.text.split("\n") == [
        "Granskning av redovisningen:",
        "• Alt 1: N.N. (ekonomichefen eller motsvarande) intygar att den ekonomiska "
        "redovisningen är korrekt.",
        "• Alt 2: N.N. bedömer inte att den är korrekt.",
    ]


def test_chunks_do_not_straddle_sections(tmp_path: Path) -> None:
    chunks = chunks_of(
        "1.1 Öppettider\n\nVårdcentralen ska ha öppet vardagar.\n\n"
        "1.2 Hembesök\n\nVårdcentralen ska erbjuda hembesök.\n\n"
        "1.2.1 Särskilt boende\n\nLäkaren ska besöka boendet varje vecka.\n", tmp_path)

    assert [(chunk.section, chunk.heading, chunk.text) for chunk in chunks] == [
        ("1.1", "Öppettider", "Vårdcentralen ska ha öppet vardagar."),
        ("1.2", "Hembesök", "Vårdcentralen ska erbjuda hembesök."),
        ("1.2.1", "Särskilt boende", "Läkaren ska besöka boendet varje vecka."),
    ]


def test_long_list_is_split_but_each_part_keeps_the_lead_in(tmp_path: Path) -> None:
    items = "".join(f"• Krav nummer {n} gäller för alla vårdcentraler i regionen.\n"
                    for n in range(1, 13))
    chunks = chunks_of(f"Vårdcentralen ska uppfylla följande krav:\n{items}", tmp_path,
                       max_chars=300)

    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= 300
        assert chunk.text.startswith("Vårdcentralen ska uppfylla följande krav:\n• Krav")
    found = [line for chunk in chunks for line in chunk.text.split("\n")[1:]]
    assert found == [f"• Krav nummer {n} gäller för alla vårdcentraler i regionen."
                     for n in range(1, 13)]


def test_content_hash_changes_with_text_and_is_stable_otherwise(tmp_path: Path) -> None:
    first = chunks_of("1.1 Öppettider\n\nVårdcentralen ska ha öppet vardagar.\n", tmp_path)
    again = chunks_of("1.1 Öppettider\n\nVårdcentralen ska ha öppet vardagar.\n", tmp_path)
    changed = chunks_of("1.1 Öppettider\n\nVårdcentralen ska ha öppet alla dagar.\n", tmp_path)

    assert first[0].chunk_id == again[0].chunk_id
    assert first[0].content_hash == again[0].content_hash
    assert changed[0].content_hash != first[0].content_hash
    assert changed[0].chunk_id != first[0].chunk_id


def test_sentence_split_protects_swedish_abbreviations() -> None:
    assert split_sentences("Vårdcentralen ska t.ex. erbjuda hembesök. Det gäller bl.a. SÄBO.") \
        == ["Vårdcentralen ska t.ex. erbjuda hembesök.", "Det gäller bl.a. SÄBO."]


def test_a_statute_reference_is_one_sentence_and_a_paragraph_sign_ends_one() -> None:
    assert split_sentences("Anmälan görs enligt 2 kap. 4 § av vårdgivaren. Se även 7 kap. 2 §. "
                           "Anmälan ska göras skriftligt. J. Berg svarar.") == [
        "Anmälan görs enligt 2 kap. 4 § av vårdgivaren.", "Se även 7 kap. 2 §.",
        "Anmälan ska göras skriftligt.", "J. Berg svarar."]  # an initial does not end one
    # A chapter heading before its first sentence still ends there.
    assert split_sentences("2 kap. Anmälan av vårdskador ska göras.") == [
        "2 kap.", "Anmälan av vårdskador ska göras."]


# --- hyphenation by lexicon, digits carrying a sentence, page marks ------------------------


@pytest.mark.parametrize(("left", "right", "joined"), [
    ("Besök på vård-", "centralen sker", "Besök på vårdcentralen sker"),
    ("Under AT-", "läkarens tjänstgöring", "Under AT-läkarens tjänstgöring"),
    ("hälso-", "och sjukvård", "hälso- och sjukvård"),
    ("med e-", "tjänster", "med e-tjänster"),
    ("via www.-", "fou.nu/is/liv", "via www.fou.nu/is/liv"),
    ("under 2019-", "2020", "under 2019-2020"),
    ("läkar-", "insatsen beräknas", "läkarinsatsen beräknas"),
])
def test_hyphenation_is_undone_by_lexicon_and_shape(left: str, right: str,
                                                    joined: str) -> None:
    from ingest.hyphenation import join_hyphenated

    assert join_hyphenated(left, right) == joined


def test_the_document_s_own_spelling_decides_a_hyphen(tmp_path: Path) -> None:
    """"sms-påminnelse" written whole elsewhere keeps its hyphen when broken at it."""
    chunks = chunks_of(
        "1.1 Påminnelser\n\n"
        "Patienten får en sms-påminnelse dagen före besöket.\n\n"
        "Vårdcentralen skickar alltid en sms-\n"
        "påminnelse till den som bokat.\n", tmp_path)
    assert "skickar alltid en sms-påminnelse till" in chunks[0].text


def test_a_line_starting_with_a_number_continues_the_sentence(tmp_path: Path) -> None:
    [chunk] = chunks_of(
        "1.2.13 Närområdesansvar\n\n"
        "• Kallelser kan göras fram till 70 års ålder om inget prov gjorts vid\n"
        "64 år.\n", tmp_path)
    assert chunk.text.endswith("om inget prov gjorts vid 64 år.")


def test_a_chunk_knows_the_page_of_each_of_its_sentences(tmp_path: Path) -> None:
    path = tmp_path / "sidor.txt"
    path.write_text("2.1 Tillgänglighet\n\nVårdcentralen ska ha öppet vardagar. Telefon-\f"
                    "tiden ska vara minst sex timmar per dag.\nBesök bokas via 1177.\n",
                    encoding="utf-8")
    [chunk] = chunk_blocks(clean_blocks(read_lines(path)), META, 900)
    assert chunk.page == 1
    assert chunk.page_at(chunk.text.index("Vårdcentralen")) == 1
    assert chunk.page_at(chunk.text.index("Besök bokas")) == 2
    assert chunk.page_at(chunk.text.index("tiden ska vara")) == 2
