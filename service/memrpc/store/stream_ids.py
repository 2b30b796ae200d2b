"""Stream ids as numbers, which order as the ids do.

A tail compares ids on every event it is handed (stream ids only grow, so
an event at or before a cursor is one taken already), and a read of a log
compares its cursor with the oldest event left: as pairs of numbers, once
parsed, they compare without parsing again.
"""

from __future__ import annotations

# A stream id as numbers: milliseconds, then sequence.
Order = tuple[int, int]

# The place before every entry: the cursor `0`.
ZERO: Order = (0, 0)
# The largest sequence number of a millisecond.
_MAX_SEQ = 2**64 - 1


def order_of(event_id: str) -> Order:
    """An event id's place in its stream (`5` stands for `5-0`)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def id_at(place: Order) -> str:
    """The event id at a place in a stream."""
    return f"{place[0]}-{place[1]}"


def before(place: Order) -> Order:
    """The place just before another (not `ZERO`): reading after it reads
    the entry at `place` too, if it is still there."""
    ms, seq = place
    return (ms, seq - 1) if seq else (ms - 1, _MAX_SEQ)
