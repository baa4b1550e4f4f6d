"""Each citation says when its text applies; an answer only superseded text gives says so."""

from __future__ import annotations

from datetime import date

from rag.models import Answer, Chunk, Citation
from rag.store.editions import validity_text

SUPERSEDED_NOTICE = ("Obs: ingen gällande text besvarar frågan. Svaret kommer från text som "
                     "inte längre gäller ({validity}); kontrollera vad som gäller i dag.")
SUPERSEDED_NOTICE_EN = ("Note: no text in force answers this. The answer comes from text that "
                        "no longer applies ({validity}); check what applies today.")
AS_OF_NOTICE = "Svaret gäller per {day}."
AS_OF_NOTICE_EN = "The answer applies as of {day}."


def reference(chunk: Chunk) -> str:
    """'HSL 7 kap. 3 §' for a statute paragraph; '' for other documents."""
    if not chunk.short_title:
        return ""
    return f"{chunk.short_title} {chunk.section}".strip()


def annotate_citation(cited: Citation, chunk: Chunk | None, as_of: date) -> Citation:
    if chunk is None:
        return cited
    return cited.model_copy(update={
        "reference": reference(chunk), "edition": chunk.edition,
        "valid_from": chunk.valid_from, "valid_to": chunk.valid_to,
        "validity": _with_new_number(validity_text(chunk.valid_from, chunk.valid_to, as_of),
                                     chunk),
        "current": chunk.valid_on(as_of)})


def _with_new_number(validity: str, chunk: Chunk) -> str:
    """'upphör 2026-01-01; betecknas därefter 8 kap. 9 §' for a paragraph renumbered that day
    (its wording lives on under the new number)."""
    if not chunk.renumbered_to:
        return validity
    return f"{validity}; betecknas därefter {chunk.renumbered_to}"


def annotate(answer: Answer, chunks: dict[str, Chunk], as_of: date,
             *, as_of_named: bool) -> Answer:
    """Validity on every citation, the as-of date on the answer, and a notice when the
    answer rests only on text no longer in force (never presented as current)."""
    answer.as_of = as_of
    answer.citations = [annotate_citation(c, chunks.get(c.chunk_id), as_of)
                        for c in answer.citations]
    answer.nearest = [annotate_citation(c, chunks.get(c.chunk_id), as_of)
                      for c in answer.nearest]
    notes: list[str] = []
    if answer.citations and not any(c.current for c in answer.citations):
        template = SUPERSEDED_NOTICE_EN if answer.language == "en" else SUPERSEDED_NOTICE
        notes.append(template.format(validity=answer.citations[0].validity))
    elif as_of_named and not answer.refused:
        template = AS_OF_NOTICE_EN if answer.language == "en" else AS_OF_NOTICE
        notes.append(template.format(day=as_of.isoformat()))
    if notes:
        answer.notice = " ".join([*notes, answer.notice] if answer.notice else notes)
    return answer
