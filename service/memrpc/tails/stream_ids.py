"""Stream ids as numbers, which order as the ids do.

A tail compares ids on every event it is handed (stream ids only grow, so
an event at or before a cursor is one taken already): as pairs of numbers,
once parsed, they compare without parsing again.
"""

from __future__ import annotations

# A stream id as numbers: milliseconds, then sequence.
Order = tuple[int, int]


def order_of(event_id: str) -> Order:
    """An event id's place in its stream (`5` stands for `5-0`)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def id_at(place: Order) -> str:
    """The event id at a place in a stream."""
    return f"{place[0]}-{place[1]}"
