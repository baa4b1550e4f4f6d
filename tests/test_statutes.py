"""The national statutes: the SFS reader on the real files, statute answers with lawyers'
citations, and every paragraph with two wordings answered by the wording in force."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from ingest.service import Styrdok
from ingest.sfs import is_sfs_markdown, read_header, read_statute, short_name
from rag.models import Answer, Chunk, DocumentMeta

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
    header = read_header(HSL.read_text(encoding="utf-8"))
    assert (header.beteckning, header.short_name, header.kind) == ("2017:30", "HSL", "lag")


def test_short_names_follow_the_rubrik_where_a_rule_can() -> None:
    assert short_name("Hälso- och sjukvårdslag", "2099:1") == "HSL"
    assert short_name("Patientsäkerhetslag", "2010:659") == "PSL"
    assert short_name("Lag om valfrihetssystem", "2008:962") == \
        "Lag om valfrihetssystem (2008:962)"


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
    assert {(c.section, c.kind) for c in changes.paragraphs} == {
        ("8 kap. 10 §", "ändrad"), ("8 kap. 11 §", "ny"), ("12 kap. 7 §", "ny")}


def _question(chunk: Chunk) -> str:
    return " ".join(re.sub(r"•\s*\d+\.\s*", " ", chunk.text).split()[:20])


def _cites(answer: Answer, chunk: Chunk, day: date) -> bool:
    return any(c.document == chunk.document and c.section == chunk.section and
               (c.valid_from is None or c.valid_from <= day) and
               (c.valid_to is None or day < c.valid_to) for c in answer.citations)


def test_each_paragraph_with_two_wordings_is_answered_by_the_one_in_force(
        corpus_service: Styrdok) -> None:
    today = corpus_service.retriever.searcher.clock.today()
    chunks = corpus_service.store.snapshot().chunks
    pairs: dict[tuple[str, str], tuple[Chunk, Chunk]] = {}
    for new in chunks:
        old = next((o for o in chunks if new.valid_from and o.document == new.document and
                    o.section == new.section and o.valid_to == new.valid_from), None)
        if new.short_title and old is not None:
            pairs.setdefault((new.document, new.section), (new, old))
    now_right = before_right = 0
    for new, old in pairs.values():
        in_force = new if new.valid_from and new.valid_from <= today else old
        before = (new.valid_from or today) - timedelta(days=1)
        now_right += _cites(corpus_service.ask(_question(in_force)), in_force, today)
        before_right += _cites(corpus_service.ask(_question(old), as_of=before), old, before)
    print(f"\n{len(pairs)} paragraphs with two wordings: today {now_right}, "
          f"as of the day before the change {before_right}")
    assert len(pairs) == 28
    # Measured: today 27 of 28, as of the day before 26 of 28 (PSF 8 kap. 9 and 10 §§ miss).
    assert now_right >= 27
    assert before_right >= 26
