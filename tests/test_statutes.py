"""The national statutes: the SFS reader on the real files, statute answers with lawyers'
citations, and every paragraph with two wordings answered by the wording in force."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from ingest.manifest import load_manifest
from ingest.service import Styrdok
from ingest.sfs import is_sfs_markdown, read_header, read_statute, short_name
from rag.answer.constraints import unknown_statute
from rag.models import Answer, Chunk, DocumentMeta, Filters
from rag.retrieve.statute_refs import Statute, asked_as_source, mentions, statutes
from rag.text.references import swedish_paragraph_references

REPO = Path(__file__).resolve().parents[1]
HSL = REPO / "corpus" / "sfs-2017-30-markers.md"
STATUTES = sorted((REPO / "corpus").glob("sfs-*.md"))


def test_the_reader_names_paragraphs_keeps_link_text_and_drops_addresses() -> None:
    assert len(STATUTES) == 3 and all(is_sfs_markdown(path) for path in STATUTES)
    assert not is_sfs_markdown(REPO / "README.md")
    chunks = read_statute(HSL, DocumentMeta(document="hsl", title="HSL"), 900)
    sections = {chunk.section for chunk in chunks}
    assert {"4 kap. 2 §", "7 kap. 3 a §", "16 a kap. 1 §"} <= sections
    assert all(len(chunk.text) <= 900 for chunk in chunks)
    assert not any("selex.se" in chunk.text or "](" in chunk.text for chunk in chunks)
    assert any("Lag (2019:973)." in chunk.text for chunk in chunks)
    old, new = (sorted((c for c in chunks if c.section == "6 kap. 1 §"),
                       key=lambda c: c.valid_to is None))
    assert (old.status, old.valid_to, new.status, new.valid_from, new.amended_by) == (
        "upphord", date(2026, 1, 1), "ikraft", date(2026, 1, 1), "2025:1399")
    assert not any(c.section == "17 kap. 4 §" for c in chunks)  # "Har upphävts genom lag"
    moved = [c for c in chunks if c.renumbered_to]  # "/Ny beteckning 8 kap. 11 § U:2027-01-01/"
    assert [(c.section, c.renumbered_to, c.valid_to) for c in moved] == [
        ("8 kap. 10 §", "8 kap. 11 §", date(2027, 1, 1))]
    header = read_header(HSL.read_text(encoding="utf-8"))
    assert (header.beteckning, header.short_name, header.kind) == ("2017:30", "HSL", "lag")


def test_short_names_follow_the_rubrik_where_a_rule_can() -> None:
    assert short_name("Hälso- och sjukvårdslag", "2099:1") == "HSL"
    assert short_name("Patientsäkerhetslag", "2010:659") == "PSL"
    assert short_name("Lag om valfrihetssystem", "2008:962") == \
        "Lag om valfrihetssystem (2008:962)"


def _statutes() -> list[Statute]:
    metas = {"sfs-2017-30-markers": "Hälso- och sjukvårdslag (2017:30)",
             "sfs-2010-659-markers": "Patientsäkerhetslag (2010:659)",
             "sfs-2010-1369-markers": "Patientsäkerhetsförordning (2010:1369)"}
    return statutes([chunk for path in STATUTES for chunk in read_statute(
        path, DocumentMeta(document=path.stem, title=metas[path.stem]), 900)[:1]])


def _manifest_statute_heads() -> list[Chunk]:
    manifest = load_manifest(REPO / "corpus")
    return [read_statute(path, manifest[path.stem], 900)[0] for path in STATUTES]


def test_an_english_question_names_a_statute_by_its_english_title() -> None:
    heads = _manifest_statute_heads()
    assert {head.title_en for head in heads} == {
        "Health and Medical Services Act", "Patient Safety Act", "Patient Safety Ordinance"}
    known = statutes(heads)

    def named(question: str) -> set[str]:
        return {statute.short_name for statute in asked_as_source(mentions(question, known),
                                                                   known)}

    assert named("What is primary care's basic mission under the Health and Medical "
                 "Services Act?") == {"HSL"}
    assert named("How long must records be kept under the patient safety law?") == {"PSL"}
    assert named("What does the Patient Safety Ordinance say about fees?") == {"PSF"}
    assert named("What does the Patient Data Act say?") == set()

    assert unknown_statute("What does the Social Services Act say about care planning?",
                           heads, known) == "the Social Services Act"
    assert unknown_statute("Which Act applies to the Patient Safety Act's reports?",
                           heads, known) is None
    # Without the English titles, an English name cannot be told missing.
    untitled = [head.model_copy(update={"title_en": ""}) for head in heads]
    assert unknown_statute("What does the Social Services Act say?", untitled,
                           statutes(untitled)) is None


def test_an_english_question_under_a_statute_is_answered_from_it(
        corpus_service: Styrdok) -> None:
    answer = corpus_service.ask("What is primary care's basic mission under the Health and "
                                "Medical Services Act?")
    assert not answer.refused
    assert answer.citations[0].document == "sfs-2017-30-markers"

    missing = corpus_service.ask("What does the Social Services Act say about care planning?")
    assert missing.refused and not missing.citations
    assert missing.answer.startswith("The documents do not include the Social Services Act.")
    assert "Patient Safety Act" in missing.answer


def test_a_statute_cited_in_passing_is_not_named_but_one_asked_about_is() -> None:
    known = _statutes()
    cited = mentions("Socialstyrelsen får ha direktåtkomst till uppgifterna i de register som "
                     "förs enligt 2 kap. 11 § patientsäkerhetslagen (2010:659), om uppgifterna",
                     known)
    assert "patientsäkerhetslagen" not in cited.naming_text and not cited.paragraphs
    assert "lagen" not in mentions("ska avgift tas ut enligt patientsäkerhetslagen (2010:659) "
                                   "eller enligt denna förordning", known).naming_text
    named = "Vad avses med vårdskada i patientsäkerhetslagen?"
    assert mentions(named, known).naming_text == named
    staff = "Hur många gånger per år får man byta vårdcentral enligt HSL 7 kap. 19 §?"
    assert mentions(staff, known).naming_text == staff and not mentions(staff, known).paragraphs
    psf_8_7 = frozenset({("sfs-2010-1369-markers", "8 kap. 7 §")})
    assert mentions("Vad säger PSF 8 kap. 7 §?", known).paragraphs == psf_8_7
    assert mentions("vad sager 8 kap 7 § patientsakerhetsforordningen om direktatkomst",
                    known).paragraphs == psf_8_7
    assert mentions("Vad innebär HSL 7 kap. 3 a §?", known).paragraphs == frozenset(
        {("sfs-2017-30-markers", "7 kap. 3 a §")})


def test_a_paragraph_asked_for_by_number_leads_in_the_wording_in_force(
        corpus_service: Styrdok) -> None:
    searcher = corpus_service.retriever.searcher
    for as_of, ceased in ((None, False), (date(2025, 6, 1), True)):
        top = searcher.search("Vad säger PSF 8 kap. 7 §?", 5, Filters(as_of=as_of))[0].chunk
        assert (top.short_title, top.section) == ("PSF", "8 kap. 7 §")
        assert (top.valid_to == date(2026, 1, 1)) is ceased
    # A statute cited in passing does not pull its own passages above the rule citing it.
    top = searcher.search("Socialstyrelsen får ha direktåtkomst till uppgifterna i de register "
                          "som förs enligt 2 kap. 11 § patientsäkerhetslagen (2010:659)")[0]
    assert (top.chunk.short_title, top.chunk.section) == ("PSF", "8 kap. 7 §")


def test_a_paragraph_asked_for_by_number_answers_from_itself(corpus_service: Styrdok) -> None:
    """"säger" matches the "som sägs i" of paragraphs citing others; the one asked for answers."""
    answer = corpus_service.ask("Vad säger 2 kap. 2 § PSL?")
    assert not answer.refused
    assert answer.citations[0].reference == "PSL 2 kap. 2 §"
    assert "inom en månad efter genomförandet" in answer.answer


def test_an_english_paragraph_reference_is_read_as_swedish_law_writes_it(
        corpus_service: Styrdok) -> None:
    assert swedish_paragraph_references(
        "What does Chapter 2, Section 14 of the Patient Safety Act say?") == \
        "What does 2 kap. 14 § Patient Safety Act say?"
    assert swedish_paragraph_references("section 3 a of chapter 7 of HSL") == "7 kap. 3 a § HSL"
    assert swedish_paragraph_references("Which section covers fees?") == \
        "Which section covers fees?"
    there = corpus_service.ask("What does Chapter 2, Section 2 of PSL say about a clinic that "
                               "moves?")
    assert not there.refused and there.citations[0].reference == "PSL 2 kap. 2 §"
    missing = corpus_service.ask("What does Chapter 2, Section 14 of PSL say about a clinic "
                                 "that moves?")
    assert missing.refused and "2 kap. 14 §" in missing.answer


def test_verksamhetschef_is_answered_from_hsl_4_kap_2(corpus_service: Styrdok) -> None:
    answer = corpus_service.ask("Vem ska finnas där det bedrivs hälso- och "
                                "sjukvårdsverksamhet?")
    assert "verksamhetschef" in answer.answer
    assert answer.citations[0].reference == "HSL 4 kap. 2 §"
    assert answer.citations[0].validity == "gäller tills vidare"


def test_what_changed_in_hsl_2026_lists_the_paragraphs(corpus_service: Styrdok) -> None:
    answer = corpus_service.ask("Vad ändrades i HSL 2026?")
    assert "HSL 6 kap. 1 § (ändrad 2026-01-01, SFS 2025:1399)" in answer.answer
    assert "HSL 2 kap. 9 § (ny 2026-01-01, SFS 2025:1399)" in answer.answer
    assert "HSL 5 kap. 8 § (ändrad 2026-01-15, SFS 2025:1498)" in answer.answer
    assert "8 kap. 10 §" not in answer.answer  # changes on 2027-01-01
    assert len(answer.citations) == answer.answer.count("[")
    changes = corpus_service.changes("sfs-2017-30-markers", on=date(2027, 1, 1))
    # 8 kap. 10 § becomes 8 kap. 11 § and a new 10 § takes its number.
    assert {(c.section, c.kind) for c in changes.paragraphs} == {
        ("8 kap. 10 §", "ny"), ("8 kap. 11 §", "ny beteckning"), ("12 kap. 7 §", "ny")}
    moved = next(c for c in changes.paragraphs if c.kind == "ny beteckning")
    assert (moved.reference, moved.previous_section) == (
        "HSL 8 kap. 11 § (tidigare 8 kap. 10 §)", "8 kap. 10 §")
    assert moved.old.startswith("Särskilda bestämmelser") and not moved.changes
    psf = corpus_service.changes("sfs-2010-1369-markers", on=date(2026, 1, 1)).paragraphs
    kinds = {(c.section, c.kind) for c in psf if c.section.startswith("8 kap. ")}
    assert {("8 kap. 9 §", "upphörd"), ("8 kap. 9 §", "ny beteckning"), ("8 kap. 10 §", "ny"),
            ("8 kap. 7 §", "ändrad")} <= kinds and ("8 kap. 10 §", "ändrad") not in kinds


QUESTION_WORDS = 20
KNOWN_MISSES_TODAY: set[tuple[str, str]] = set()
KNOWN_MISSES_BEFORE: set[tuple[str, str]] = set()


def _words(text: str) -> list[str]:
    return re.sub(r"•\s*\d+\.\s*", " ", text).split()


def _question(chunk: Chunk, others: list[Chunk]) -> str:
    """Twenty words of the wording: from its first sentence whose twenty words no other
    passage in force the same day also has (PSF 8 kap. 10 § as of 2025 opens with the same
    words as PSF 2 kap. 4 §, so only its third sentence tells them apart); else its first."""
    words = _words(chunk.text)
    starts = [0] + [i + 1 for i, word in enumerate(words[:-1]) if word.endswith(".")
                    and words[i + 1][:1].isupper()]
    texts = [" ".join(_words(other.text)) for other in others if other.chunk_id !=
             chunk.chunk_id]
    for start in starts:
        window = " ".join(words[start:start + QUESTION_WORDS])
        if len(window.split()) >= QUESTION_WORDS // 2 and not any(window in t for t in texts):
            return window
    return " ".join(words[:QUESTION_WORDS])


def _cites(answer: Answer, chunk: Chunk, day: date) -> bool:
    return any(c.document == chunk.document and c.section == chunk.section and
               (c.valid_from is None or c.valid_from <= day) and
               (c.valid_to is None or day < c.valid_to) for c in answer.citations)


def test_each_paragraph_with_two_wordings_is_answered_by_the_one_in_force(
        corpus_service: Styrdok) -> None:
    today = corpus_service.retriever.searcher.clock.today()
    chunks = corpus_service.store.snapshot().chunks
    by_id = {chunk.chunk_id: chunk for chunk in chunks}
    pairs: dict[tuple[str, str], tuple[Chunk, Chunk]] = {}  # by number: (new, old)
    for new in chunks:
        old = next((o for o in chunks if new.valid_from and o.document == new.document and
                    o.section == new.section and o.valid_to == new.valid_from), None)
        if new.short_title and old is not None:
            pairs.setdefault((new.document, new.section), (new, old))
    # A renumbered paragraph's two wordings: the old number's and the new number's.
    renumbered: dict[tuple[str, str], tuple[Chunk, Chunk]] = {}
    for old in (chunk for chunk in chunks if chunk.renumbered_to):
        new = next((n for n in chunks if n.document == old.document and
                    n.section == old.renumbered_to and n.valid_from == old.valid_to), None)
        if new is not None:  # the first passage of each, as for the pairs by number
            renumbered.setdefault((old.document, f"{old.section} → {old.renumbered_to}"),
                                  (new, old))
    missed_today: set[tuple[str, str]] = set()
    missed_before: set[tuple[str, str]] = set()
    for key, (new, old) in [*pairs.items(), *renumbered.items()]:
        in_force = new if new.valid_from and new.valid_from <= today else old
        before = (new.valid_from or today) - timedelta(days=1)
        now_question = _question(in_force, [c for c in chunks if c.valid_on(today)])
        old_question = _question(old, [c for c in chunks if c.valid_on(before)])
        if not _cites(corpus_service.ask(now_question), in_force, today):
            missed_today.add(key)
        answer = corpus_service.ask(old_question, as_of=before)
        if not _cites(answer, old, before):
            missed_before.add(key)
        for cited in answer.citations:  # an old number says what it is called now
            chunk = by_id.get(cited.chunk_id)
            if chunk is not None and chunk.renumbered_to:
                assert cited.validity.endswith(f"; betecknas därefter {chunk.renumbered_to}")
    for label, keys in (("paragraphs with two wordings", pairs), ("renumbered", renumbered)):
        print(f"\n{len(keys)} {label}: today {len(set(keys) - missed_today)}, as of the day "
              f"before the change {len(set(keys) - missed_before)}")
    print(f"missed today {sorted(missed_today)}, as of {sorted(missed_before)}")
    assert len(pairs) == 28 and len(renumbered) == 7
    # Measured: today 28 of 28, as of the day before 28 of 28 (and the 7 renumbered ones all).
    # A paragraph that starts to pass (the answer step fixed) fails this too, so the figures
    # here and in the README move with it.
    assert (missed_today, missed_before) == (KNOWN_MISSES_TODAY, KNOWN_MISSES_BEFORE)
