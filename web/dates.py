"""Dates in the API: only as YYYY-MM-DD."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema


def _iso_date(value: Any) -> Any:
    """Dates only as YYYY-MM-DD (pydantic would also read a number as a Unix timestamp)."""
    if isinstance(value, date) or value is None:
        return value
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date),
                    WithJsonSchema({"type": "string", "format": "date"})]
