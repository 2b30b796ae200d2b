"""The time a query text names, if any: a day ("16 November, 2023",
"November 16th 2023"), a month of a year ("August 2023"), a month of any
year ("in June", capitalised and not the text's first word, as "May" is
also a verb), or a year ("in 2023"), the most precise found first. Hybrid
recall raises the memories whose event time falls in it (`store/recall.py`,
`SearchMemoriesRequest.time_weight`); times are read in UTC, and in English
month names only."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH = "|".join(_MONTHS)
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_FIRST = re.compile(rf"\b(\d{{1,2}}){_ORDINAL}\s+({_MONTH}),?\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_FIRST = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}}){_ORDINAL},?\s*(\d{{4}})\b", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTH}),?\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_ALONE = re.compile(rf"(?<=\S)(?:\W+)\b({'|'.join(m.title() for m in _MONTHS)})\b")
_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")


@dataclass(frozen=True)
class NamedTime:
    """A time a query names: `year`, `month` and `day`, each None when not
    named (a month of any year has no year)."""

    year: int | None = None
    month: int | None = None
    day: int | None = None

    def holds(self, ms: int) -> bool:
        """Whether the instant `ms` (Unix ms, UTC) falls in this time."""
        when = datetime.fromtimestamp(ms / 1000, tz=UTC)
        return (
            (self.year is None or when.year == self.year)
            and (self.month is None or when.month == self.month)
            and (self.day is None or when.day == self.day)
        )


def named_time(text: str) -> NamedTime | None:
    """The most precise time `text` names, None when it names none (or an
    impossible date)."""
    if (match := _DAY_FIRST.search(text)) is not None:
        day, month, year = match.groups()
        return _date(int(year), _MONTHS[month.lower()], int(day))
    if (match := _MONTH_FIRST.search(text)) is not None:
        month, day, year = match.groups()
        return _date(int(year), _MONTHS[month.lower()], int(day))
    if (match := _MONTH_YEAR.search(text)) is not None:
        return NamedTime(year=int(match[2]), month=_MONTHS[match[1].lower()])
    if (match := _MONTH_ALONE.search(text)) is not None:
        return NamedTime(month=_MONTHS[match[1].lower()])
    if (match := _YEAR.search(text)) is not None:
        return NamedTime(year=int(match[1]))
    return None


def _date(year: int, month: int, day: int) -> NamedTime | None:
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return NamedTime(year, month, day)
