"""The one place Styrdok asks what day it is, so tests (and audits) can pin it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date


class Clock:
    """`today()` is `date.today()` unless pinned (STYRDOK_TODAY, or `Clock(fixed)`)."""

    def __init__(self, fixed: date | None = None,
                 source: Callable[[], date] = date.today) -> None:
        self.fixed = fixed
        self._source = source

    def today(self) -> date:
        return self.fixed or self._source()
