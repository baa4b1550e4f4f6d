"""Which date a question is answered as of, and when each edition applies (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest

from rag.retrieve.as_of import resolve
from rag.store.editions import EditionInfo, validity_text, with_effective_validity

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("question", "expected"), [
    ("Vad gällde 2025 för fast läkarkontakt?", date(2025, 12, 31)),
    ("Hur var det före 2026?", date(2025, 12, 31)),
    ("Vad gäller 2026?", TODAY),
    ("Vad gäller från 2027?", date(2027, 1, 1)),
    ("Vad gällde den 1 mars 2025?", date(2025, 3, 1)),
    ("Vad gällde 2025-03-01?", date(2025, 3, 1)),
    ("What applied in 2024?", date(2024, 12, 31)),
    ("Vad gällde enligt HSL 6 kap. 1 § 2025?", date(2025, 12, 31)),
    ("Vad gällde för PSF 8 kap. 9 § år 2025?", date(2025, 12, 31)),
    # A year that names a document, or an SFS number, is no date.
    ("Vad säger uppföljningen 2020 om vite?", TODAY),
    ("Vad ändrades genom SFS 2025:1399?", TODAY),
    ("Vad gällde enligt förordningen (2010:1369)?", TODAY),
])
def test_a_date_the_question_names(question: str, expected: date) -> None:
    assert resolve(question, None, TODAY).day == expected


def test_a_given_date_wins_over_the_question() -> None:
    assert resolve("Vad gällde 2025?", date(2024, 5, 1), TODAY).source == "given"
    assert resolve("Hur mycket läkartid?", None, TODAY).source == "today"


def _edition(label: str, valid_from: date | None, ingested: str = "2025-01-01",
             valid_to: date | None = None) -> EditionInfo:
    return EditionInfo(document="d", edition=label, title="D", path="", file_hash="",
                       chunks=1, ingested_at=ingested, valid_from=valid_from,
                       declared_valid_to=valid_to)


def test_an_edition_ends_where_the_next_begins_in_any_ingest_order() -> None:
    editions = with_effective_validity([_edition("2026", date(2026, 1, 1)),
                                        _edition("2025", date(2025, 1, 1))])
    assert [(e.edition, e.valid_to, e.superseded_by) for e in editions] == [
        ("2025", date(2026, 1, 1), "2026"), ("2026", None, None)]
    # An unlabelled first edition and an upload without a date: it starts the day it came.
    editions = with_effective_validity([_edition("", None),
                                        _edition("b", None, ingested="2026-03-04T10:00:00")])
    assert [(e.valid_from, e.valid_to) for e in editions] == [
        (None, date(2026, 3, 4)), (date(2026, 3, 4), None)]
    # A declared giltig till before the next edition is kept.
    editions = with_effective_validity([_edition("a", date(2025, 1, 1),
                                                 valid_to=date(2025, 6, 30)),
                                        _edition("b", date(2026, 1, 1))])
    assert editions[0].valid_to == date(2025, 6, 30)


def test_validity_reads_as_staff_say_it() -> None:
    assert validity_text(date(2026, 1, 1), None, TODAY) == "gäller från 2026-01-01"
    assert validity_text(None, date(2026, 1, 1), TODAY) == "upphörde 2026-01-01"
    assert validity_text(None, date(2027, 1, 1), TODAY) == "upphör 2027-01-01"
    assert validity_text(date(2027, 1, 1), None, TODAY) == \
        "gäller från 2027-01-01 (ännu inte i kraft)"
    assert validity_text(None, None, TODAY) == "gäller tills vidare"
