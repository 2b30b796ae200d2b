"""The running summary of each session: the turns left to fold, and the
conditional write of a fold.

The summary lives in the session Hash (fields in `store/working.py`): the
writes of working memory count the turns that leave the window
(`evicted_count`) and keep the newest one's event id (`evicted_last`); the
summary records how far the thread's log is folded (`folded_through`,
set at the session's creation to the log's newest event, so that turns of
an earlier, deleted session of the same thread are never folded in) and
how many turns it covers or skipped (`summary_turns`, `summary_skipped`).
So the turns still to fold are

    pending = evicted_count - summary_turns - summary_skipped

and they are exactly the newest `pending` events of type `memrpc.turn` in
the log after `folded_through` up to `evicted_last`: the window keeps its
newest turns, so every turn of the session up to `evicted_last` has left
it. Those the log has trimmed meanwhile are *skipped*: counted, not folded.

A fold step (`next_fold`, then the summarizer, then `write`) reads the Hash
(one HMGET), then the log backwards from `evicted_last` in pages of
`FOLD_READ_PAGE`, and folds the oldest `FOLD_MAX_TURNS` at most; a longer
backlog takes several steps. Its write (`lua/summary_fold.lua`) is
conditional: it writes only if the session is the same one (`create_ms`),
nobody folded since (`folded_through`) and the fold covers no more than is
pending, else nothing; so concurrent folders, appends, updates and deletes
never fold a turn twice nor lose one. A fold changes neither the session's
`version` nor its time to live nor the listing indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from memrpc.limits import FOLD_MAX_TURNS, MAX_NAME_CHARS, SUMMARY_MAX_CHARS
from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import SummaryFold
from memrpc.store.stream_ids import order_of
from memrpc.store.turn_log import newest_turns
from memrpc.summaries.base import FoldTurn

# The event type UpdateSession records an emptied window as
# (`lua/session_update.lua`).
WINDOW_EMPTIED_EVENT = "memrpc.window_emptied"
_STATE = (
    b"create_ms",
    b"folded_through",
    b"evicted_count",
    b"evicted_last",
    b"summary",
    b"summary_turns",
    b"summary_skipped",
)


@dataclass(frozen=True)
class FoldWork:
    """One fold step of a session: the summary so far and the turns to fold
    into it, and what its write checks.

    `turns` (oldest first) can be empty when every pending turn was trimmed
    from the log: the write then records them as skipped and keeps the
    summary (write `summary` back as `text`)."""

    ns: str
    thread: str
    # The summary so far ('' for none).
    summary: str
    turns: list[FoldTurn]
    # Turns of this step trimmed from the log before they could be read.
    skipped: int
    # The turns left to fold before this step (`turns`, `skipped` and later
    # steps' turns).
    pending: int
    # The session's state when read: the write needs it unchanged.
    create_ms: str
    folded_through: str
    # The `folded_through` the write sets: the last turn's id, or the
    # newest skipped one's when no turn is left to fold.
    through: str


def _int(value: bytes | None) -> int:
    return int(value) if value else 0


def pending_turns(fields: Mapping[bytes, bytes | None]) -> int:
    """How many turns have left a session's window and are not folded in
    yet, from its Hash `fields`: evicted, less covered, less skipped."""
    return (
        _int(fields.get(b"evicted_count"))
        - _int(fields.get(b"summary_turns"))
        - _int(fields.get(b"summary_skipped"))
    )


class SummaryStore:
    """Reads the work of a fold step and writes its outcome."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._fold = scripts.load(redis, SummaryFold)

    async def next_fold(
        self, ns: str, thread: str, *, min_turns: int, max_turns: int = FOLD_MAX_TURNS
    ) -> FoldWork | None:
        """The next fold step of the thread's session: its oldest `max_turns`
        pending turns at most; None when it has no session or fewer than
        `min_turns` (at least one) pending."""
        state = dict(
            zip(
                _STATE,
                await self._redis.execute("HMGET", keys.session(ns, thread), *_STATE),
                strict=True,
            )
        )
        create_ms, folded_through, last = (
            state[b"create_ms"],
            state[b"folded_through"],
            state[b"evicted_last"],
        )
        pending = pending_turns(state)
        if create_ms is None or folded_through is None or last is None:
            return None
        if pending < max(min_turns, 1):
            return None
        found = await newest_turns(
            self._redis, keys.events(ns, thread), last, folded_through, pending
        )
        turns = found[:max_turns]
        # Without a turn to fold, past the newest that left (never backwards).
        skipped_through = max(last.decode(), folded_through.decode(), key=order_of)
        return FoldWork(
            ns=ns,
            thread=thread,
            summary=(state[b"summary"] or b"").decode(),
            turns=turns,
            skipped=pending - len(found),
            pending=pending,
            create_ms=create_ms.decode(),
            folded_through=folded_through.decode(),
            through=turns[-1].event_id if turns else skipped_through,
        )

    async def write(self, work: FoldWork, *, text: str, summarizer: str, now_ms: int) -> bool:
        """Writes the fold of `work` with the new summary `text`, only if the
        session is as `work` read it; False (nothing written) when it is not
        (deleted, recreated, or folded by another step meanwhile)."""
        if len(text) > SUMMARY_MAX_CHARS.high:
            raise ValueError(f"a summary holds at most {SUMMARY_MAX_CHARS.high:.0f} characters")
        if not 0 < len(summarizer) <= MAX_NAME_CHARS:
            raise ValueError(f"a summarizer's name has 1 to {MAX_NAME_CHARS} characters")
        written = await self._fold(
            SummaryFold(
                session=keys.session(work.ns, work.thread),
                create_ms=work.create_ms,
                folded_through=work.folded_through,
                through=work.through,
                first=work.turns[0].event_id if work.turns else "",
                last=work.turns[-1].event_id if work.turns else "",
                turns=len(work.turns),
                skipped=work.skipped,
                summary=text,
                now_ms=now_ms,
                summarizer=summarizer,
            )
        )
        return bool(written)
