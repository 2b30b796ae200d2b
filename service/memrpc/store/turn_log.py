"""The turns of a thread's event log (`keys.events`): the events of type
`memrpc.turn` that AppendTurns records (`lua/append_turns.lua`), read back
by the jobs that work on the turns that left a window (the running summary,
`store/summaries.py`; memory formation, `store/formation.py`)."""

from __future__ import annotations

import json

from memrpc.limits import FOLD_READ_PAGE
from memrpc.store.redis_mux import RedisClient
from memrpc.summaries.base import FoldTurn

# The event type AppendTurns records each turn as (`lua/append_turns.lua`).
TURN_EVENT = "memrpc.turn"


def _turn(event_id: bytes, fields: list[bytes]) -> FoldTurn | None:
    """The turn an event of the log records, or None for another event."""
    values = dict(zip(fields[::2], fields[1::2], strict=True))
    if values.get(b"type") != TURN_EVENT.encode():
        return None
    payload = json.loads(values[b"json"])
    return FoldTurn(event_id.decode(), payload["role"], payload["content"])


async def newest_turns(
    redis: RedisClient, stream: str, last: bytes, after: bytes, count: int
) -> list[FoldTurn]:
    """The newest `count` turns of the log from `last` back to `after`
    (exclusive), oldest first, read in pages of `FOLD_READ_PAGE`: fewer when
    the log has trimmed the oldest of them."""
    found: list[FoldTurn] = []
    end, start = last, b"(" + after
    while len(found) < count:
        page = await redis.execute("XREVRANGE", stream, end, start, "COUNT", FOLD_READ_PAGE)
        for event_id, fields in page:
            turn = _turn(event_id, fields)
            if turn is not None and len(found) < count:
                found.append(turn)
        if len(page) < FOLD_READ_PAGE:
            break
        end = b"(" + page[-1][0]
    found.reverse()
    return found
