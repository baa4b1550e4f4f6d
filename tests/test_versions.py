"""Editions, answers as of a date and what changed, on a constructed 2026 edition of the real
Värmland document (a number changed, a requirement added, one removed, a section renumbered),
with the clock pinned; and the old edition surviving a crash mid-ingest of the new one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml
from chromadb.api.shared_system_client import SharedSystemClient
from helpers import shared_embedder

from ingest.service import Styrdok
from rag.answer.changes import UnknownEdition
from rag.models import Answer
from rag.settings import Settings
from rag.store.catalog import Catalog
from web.changes import changes_html

REPO = Path(__file__).resolve().parents[1]
VARMLAND = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
NEW = f"{VARMLAND}-2026"
TODAY = date(2026, 12, 1)
ADDED = "Vårdcentralen ska erbjuda medicinsk fotvård inom fyra veckor efter remiss."
REMOVED = ("Psykologiska/psykoterapeutiska insatser ska erbjudas utifrån nationella "
           "kunskapsstöd och \n\npatientens behov. ")
# The changes made, as (kind, old section, new section) the diff must report: nothing else.
EXPECTED = {("changed", "1.2.3", "1.2.3"), ("changed", "1.2.6", "1.2.6"),
            ("changed", "1.2.5", "1.2.5"), ("renumbered", "1.7", "1.8")}


def new_edition(text: str) -> str:
    for old, new in (("3 timmar per vecka för 100", "4 timmar per vecka för 100"),
                     ("diabetessjuksköterska. ", f"diabetessjuksköterska. {ADDED} "),
                     (REMOVED, ""), ("\n1.7 Fortbildning", "\n1.8 Fortbildning")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def write_corpus(folder: Path, *, with_new: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    original = (REPO / "corpus" / f"{VARMLAND}.txt").read_text(encoding="utf-8")
    (folder / f"{VARMLAND}.txt").write_text(original, encoding="utf-8")
    entries = {VARMLAND: {"title": "Förfrågningsunderlag Vårdval vårdcentral, del 2",
                          "region": "Region Värmland", "doc_type": "förfrågningsunderlag",
                          "edition": "2025", "valid_from": "2025-01-01"}}
    if with_new:
        (folder / f"{NEW}.txt").write_text(new_edition(original), encoding="utf-8")
        entries[NEW] = {**entries[VARMLAND], "edition": "2026", "valid_from": "2026-01-01",
                        "supersedes": VARMLAND}
    (folder / "manifest.yaml").write_text(yaml.safe_dump({"documents": entries},
                                                         allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def editions_service(tmp_path_factory: pytest.TempPathFactory) -> Styrdok:
    root = tmp_path_factory.mktemp("editions")
    service = Styrdok(Settings(data_dir=root / "data", today=TODAY), shared_embedder())
    report = service.ingest([write_corpus(root / "corpus")])
    assert report.ok, report.failed
    return service


def test_both_editions_are_kept_and_the_old_one_is_superseded(editions_service: Styrdok
                                                             ) -> None:
    editions = editions_service.editions(VARMLAND)
    assert [(e.edition, e.valid_from, e.valid_to, e.superseded_by) for e in editions] == [
        ("2025", date(2025, 1, 1), date(2026, 1, 1), "2026"),
        ("2026", date(2026, 1, 1), None, None)]
    assert [doc.document for doc in editions_service.documents()] == [VARMLAND]


def test_diff_finds_every_change_and_nothing_else(editions_service: Styrdok) -> None:
    changes = editions_service.changes(VARMLAND)
    assert (changes.from_edition, changes.to_edition) == ("2025", "2026")
    found = {(s.kind, s.old_section, s.new_section) for s in changes.sections}
    true_positives = len(found & EXPECTED)
    precision, recall = true_positives / len(found), true_positives / len(EXPECTED)
    print(f"\ndiff precision {precision:.2f}, recall {recall:.2f} ({len(found)} found, "
          f"{len(EXPECTED)} made)")
    assert (precision, recall) == (1.0, 1.0), found
    by_section = {s.new_section or s.old_section: s for s in changes.sections}
    number = by_section["1.2.3"].changes
    assert [c.kind for c in number] == ["changed"]
    assert [(w.old, w.new) for w in number[0].words] == [("3 timmar", "4 timmar")]
    assert [(c.kind, c.new) for c in by_section["1.2.6"].changes] == [("added", ADDED)]
    assert [c.kind for c in by_section["1.2.5"].changes] == ["removed"]
    assert by_section["1.2.5"].changes[0].old.startswith("Psykologiska/psykoterapeutiska")
    assert by_section["1.8"].changes == []  # renumbered, text unchanged
    page = changes_html(changes)
    assert "<del>3</del><ins>4</ins> timmar" in page


def test_default_answer_is_the_edition_in_force_today(editions_service: Styrdok) -> None:
    answer = editions_service.ask("Hur mycket läkartid ska BMM ha?")
    assert "4 timmar per vecka" in answer.answer and "3 timmar" not in answer.answer
    first = answer.citations[0]
    assert (first.edition, first.current, first.validity) == ("2026", True,
                                                              "gäller från 2026-01-01")
    assert answer.as_of == TODAY and answer.notice is None


def test_as_of_and_a_year_in_the_question_answer_from_the_old_edition(
        editions_service: Styrdok) -> None:
    answers: list[Answer] = [
        editions_service.ask("Hur mycket läkartid ska BMM ha?", as_of=date(2025, 6, 1)),
        editions_service.ask("Hur mycket läkartid gällde för BMM 2025?")]
    for answer in answers:
        assert "3 timmar per vecka" in answer.answer and "4 timmar" not in answer.answer
        assert answer.citations[0].edition == "2025"
        assert answer.citations[0].validity == "gäller från 2025-01-01, upphör 2026-01-01"
    assert answers[1].as_of == date(2025, 12, 31)
    hits = editions_service.search("läkarinsats mödrahälsovården", k=5)
    assert {hit.chunk.edition for hit in hits} == {"2026"}


def test_a_requirement_only_the_superseded_edition_has_is_marked_as_such(
        editions_service: Styrdok) -> None:
    answer = editions_service.ask("Ska psykologiska och psykoterapeutiska insatser erbjudas?")
    assert not answer.refused
    assert all(not c.current and c.edition == "2025" for c in answer.citations)
    assert answer.citations[0].validity.endswith("upphörde 2026-01-01")
    assert answer.notice and "inte längre gäller" in answer.notice


def test_removing_an_edition_is_explicit_and_reopens_the_previous(tmp_path: Path) -> None:
    service = Styrdok(Settings(data_dir=tmp_path / "data", today=TODAY), shared_embedder())
    assert service.ingest([write_corpus(tmp_path / "corpus")]).ok
    with pytest.raises(UnknownEdition):
        service.changes(VARMLAND, "1999")
    assert service.remove(VARMLAND, "2026")
    assert [(e.edition, e.valid_to) for e in service.editions(VARMLAND)] == [("2025", None)]
    assert "3 timmar per vecka" in service.ask("Hur mycket läkartid ska BMM ha?").answer


def test_an_old_catalog_is_migrated_to_editions(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE documents (document TEXT PRIMARY KEY, title TEXT, region TEXT,
              doc_type TEXT, year INTEGER, source TEXT, path TEXT, file_hash TEXT,
              ingested_at TEXT, chunks INTEGER);
            CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, document TEXT NOT NULL,
              ord INTEGER NOT NULL, data TEXT NOT NULL, terms TEXT NOT NULL);
            INSERT INTO documents VALUES ('d', 'D', '', '', NULL, '', 'd.txt', 'h',
              '2025-01-01T00:00:00+00:00', 1);
            INSERT INTO chunks VALUES ('d:0000:x', 'd', 0, '{"chunk_id": "d:0000:x",
              "document": "d", "title": "D", "text": "Text.", "content_hash": "x"}', '[]');
        """)
    catalog = Catalog(path)
    assert [(e.document, e.edition, e.file_hash) for e in catalog.editions()] == [
        ("d", "", "h")]
    assert catalog.file_hash("d") == "h"
    _, chunks, _ = catalog.snapshot()
    assert [(c.chunk_id, c.edition) for c in chunks] == [("d:0000:x", "")]


CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from ingest.service import Styrdok
    from rag.settings import Settings
    from rag.store.catalog import Catalog

    def dying(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    Catalog.replace_document = dying  # vectors of the new edition written, catalog not swapped
    Styrdok(Settings(data_dir=Path(sys.argv[1]))).ingest([Path(sys.argv[2])])
""")


@pytest.mark.slow
def test_the_old_edition_survives_a_crash_mid_ingest_of_the_new(tmp_path: Path) -> None:
    data, corpus = tmp_path / "data", tmp_path / "corpus"
    settings = Settings(data_dir=data, today=TODAY, orphan_grace_s=0)
    assert Styrdok(settings, shared_embedder()).ingest([write_corpus(corpus, with_new=False)]).ok
    write_corpus(corpus)
    child = subprocess.run([sys.executable, "-c", CHILD, str(data), str(corpus / f"{NEW}.txt")],
                           cwd=REPO, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "STYRDOK_ORPHAN_GRACE_S": "0"})
    assert child.returncode == -signal.SIGKILL, child.stderr
    SharedSystemClient.clear_system_cache()
    service = Styrdok(settings, shared_embedder())
    assert [e.edition for e in service.editions(VARMLAND)] == ["2025"]
    answer = service.ask("Hur mycket läkartid ska BMM ha?")
    assert "3 timmar per vecka" in answer.answer and answer.citations[0].current
    report = service.ingest([corpus])
    assert report.ok and report.unchanged == [VARMLAND]
    assert [e.edition for e in service.editions(VARMLAND)] == ["2025", "2026"]
    assert "4 timmar per vecka" in service.ask("Hur mycket läkartid ska BMM ha?").answer
    assert service.store.catalog.chunk_ids() <= service.store.vectors.ids()
