"""The dev/test split: by fact, seeded and committed, so every phrasing of a fact lands together.

Tune only on dev; the gate reads test. The formula is fixed (BRIEF.md): changing the seed
string would reshuffle every case and void all earlier figures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal, TypeVar

from evals.cases import Case

Split = Literal["dev", "test"]
SplitChoice = Literal["dev", "test", "all"]
SPLITS: tuple[Split, ...] = ("dev", "test")
SEED = "styrdok-split-v1"

CaseT = TypeVar("CaseT", bound=Case)


def split_of(fact: str) -> Split:
    """'test' for about half of all facts, 'dev' for the rest; stable across runs and hosts."""
    digest = hashlib.sha256(f"{SEED}:{fact}".encode()).hexdigest()
    return "test" if int(digest, 16) % 2 else "dev"


def case_split(case: Case) -> Split:
    return split_of(case.fact)


def select(cases: Iterable[CaseT], split: SplitChoice) -> list[CaseT]:
    """The cases of one split ('all' keeps every case)."""
    return [case for case in cases if split == "all" or case_split(case) == split]
