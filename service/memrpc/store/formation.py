"""Memory formation: the turns that left a session's window, in chunks, and
the conditional write of the memory a chunk forms.

The cursor lives in the session Hash (fields in `store/working.py`), beside
the running summary's: `formed_through`, set at the session's creation to
the log's newest event (so turns of an earlier, deleted session of the same
thread are never formed), then the last event id formed; `formed_turns`
and `formed_skipped`, the turns formed and those the log trimmed before
they could be. So the turns waiting to be formed are

    waiting = evicted_count - formed_turns - formed_skipped

and they are the newest `waiting` turns of the log after `formed_through`
up to `evicted_last` (`store/turn_log.py`, as for the summary). A chunk is
the oldest `turns_per_memory` of them; fewer wait for more turns. Sessions
written before formation have no `formed_through`: they form nothing.
Formation is on for a session by its thread's own choice (`form_memories`,
written by `AppendTurns`), else by its namespace's setting: read in the
same HMGET as the cursor.

A formation step (`next_chunk`, then the summary of the chunk, the facts a
language model extracts from it if any, and their embeddings, then `form`)
reads the Hash (one HMGET) and the log, and writes in one script
(`lua/memory_form.lua`): only if the session is the same one (`create_ms`)
and nobody formed since (`formed_through`), it creates the episodic memory
and the facts (semantic memories, `Source.EXTRACTION`) each through the
dedup path of `CreateMemories` and advances the cursor, else nothing; so
concurrent formers, redeliveries and crashes never form a turn twice nor
lose one, nor write a chunk's facts without its episode. Turns the log
trimmed are counted as skipped in the same write (alone, when no whole chunk
is left of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memrpc.limits import LLM_MAX_FACTS
from memrpc.store import keys, scripts
from memrpc.store.long_term import (
    LongTermStore,
    Memory,
    NewMemory,
    Source,
    document,
    parse_memory,
)
from memrpc.store.memory_index import Kind, ModelField, dedup_queries
from memrpc.store.redis_mux import Arg, RedisClient
from memrpc.store.script_args import MemoryForm, insert_item
from memrpc.store.stream_ids import order_of
from memrpc.store.turn_log import newest_turns
from memrpc.store.ulid import new_ulid
from memrpc.summaries.base import FoldTurn

_STATE = (
    "create_ms",
    "formed_through",
    "evicted_count",
    "evicted_last",
    "formed_turns",
    "formed_skipped",
    "user_id",
    "form_memories",
)


@dataclass(frozen=True)
class Chunk:
    """One formation step of a session: the turns a memory records (oldest
    first; empty when the step only counts turns trimmed from the log), and
    what its write checks."""

    ns: str
    thread: str
    user_id: str
    turns: list[FoldTurn]
    # Turns before `turns` trimmed from the log before they could be read.
    skipped: int
    # The session's state when read: the write needs it unchanged.
    create_ms: str
    formed_through: str
    # The `formed_through` the write sets.
    through: str


@dataclass(frozen=True)
class Formed:
    """The outcome of a memory's write: the memory created or, when it
    repeated a live one (`duplicate`), that memory after its hit; for a
    chunk's episodic memory, its facts' (in their order)."""

    memory: Memory
    duplicate: bool
    facts: tuple[Formed, ...] = ()


def _int(value: bytes | None) -> int:
    return int(value) if value else 0


def event_ms(event_id: str) -> int:
    """When an event was appended: the time part of its id (ms)."""
    return int(event_id.split("-", 1)[0])


class FormationStore:
    """Reads the chunks of a formation step and writes the memory they form,
    as `long_term` stores memories."""

    def __init__(self, redis: RedisClient, long_term: LongTermStore) -> None:
        self._redis = redis
        self._long_term = long_term
        self._form = scripts.load(redis, MemoryForm)

    async def next_chunk(
        self, ns: str, thread: str, *, turns_per_memory: int, enabled: bool = True
    ) -> Chunk | None:
        """The next chunk of the thread's session: its oldest
        `turns_per_memory` waiting turns; None when it has no session,
        formation is off for it (by the thread's own choice, the session's
        `form_memories`, else by `enabled`, the namespace's setting), or
        fewer turns wait."""
        state = dict(
            zip(
                _STATE,
                await self._redis.execute("HMGET", keys.session(ns, thread), *_STATE),
                strict=True,
            )
        )
        create_ms, formed_through, last = (
            state["create_ms"],
            state["formed_through"],
            state["evicted_last"],
        )
        choice = state["form_memories"]
        if not (enabled if choice is None else choice == b"1"):
            return None
        if create_ms is None or formed_through is None or last is None:
            return None
        waiting = (
            _int(state["evicted_count"])
            - _int(state["formed_turns"])
            - _int(state["formed_skipped"])
        )
        if waiting < max(turns_per_memory, 1):
            return None
        found = await newest_turns(
            self._redis, keys.events(ns, thread), last, formed_through, waiting
        )
        # The oldest waiting turns trimmed from the log are counted as
        # skipped: with the chunk, or alone when no whole chunk is left.
        skipped = waiting - len(found)
        turns = found[:turns_per_memory] if len(found) >= turns_per_memory else []
        newest_skipped = max(last.decode(), formed_through.decode(), key=order_of)
        return Chunk(
            ns=ns,
            thread=thread,
            user_id=(state["user_id"] or b"").decode(),
            turns=turns,
            skipped=skipped,
            create_ms=create_ms.decode(),
            formed_through=formed_through.decode(),
            through=turns[-1].event_id if turns else _before(found, newest_skipped),
        )

    async def form(
        self,
        chunk: Chunk,
        memory: NewMemory,
        *,
        facts: Sequence[NewMemory] = (),
        max_distance: float,
        episodic_ttl_ms: int,
        now_ms: int,
        field: ModelField | None = None,
    ) -> Formed | None:
        """Writes the formation of `chunk`: `memory` (its text and embedding,
        in the vector field `field`, None: the default model's, and its
        other model's vector if any; the rest is the chunk's) and the
        `facts` extracted from it (semantic memories, at most
        `LLM_MAX_FACTS`), each created or, when it repeats a live memory,
        that one's hit; only if the session is as `chunk` read it (else
        None, nothing written)."""
        if not chunk.turns:
            raise ValueError("only a chunk with turns forms a memory")
        if len(facts) > LLM_MAX_FACTS:
            raise ValueError(f"a chunk forms at most {LLM_MAX_FACTS} facts, not {len(facts)}")
        times = {"episodic_ttl_ms": episodic_ttl_ms, "now_ms": now_ms}
        formed = [
            self._new(chunk, memory, kind=Kind.EPISODIC, source=Source.FORMATION, **times),
            *(
                self._new(chunk, fact, kind=Kind.SEMANTIC, source=Source.EXTRACTION, **times)
                for fact in facts
            ),
        ]
        inserts = [
            self._insert(
                ns=chunk.ns, new=new, doc=doc, item=item, max_distance=max_distance, field=field
            )
            for new, doc, item in formed
        ]
        reply = await self._write(chunk, [new.id for new, _, _ in formed], inserts, max_distance)
        if reply[0] == 0:
            return None
        outcomes = [
            Formed(parse_memory(repeated), duplicate=True) if repeated else Formed(new, False)
            for (new, _, _), repeated in zip(formed, reply[1:], strict=True)
        ]
        return Formed(outcomes[0].memory, outcomes[0].duplicate, tuple(outcomes[1:]))

    @staticmethod
    def _new(
        chunk: Chunk,
        memory: NewMemory,
        *,
        kind: Kind,
        source: Source,
        episodic_ttl_ms: int,
        now_ms: int,
    ) -> tuple[Memory, str, NewMemory]:
        """A memory of `chunk` of `memory`'s text and embedding: as stored,
        its document, and the item it was made of."""
        start_ms = event_ms(chunk.turns[0].event_id)
        item = NewMemory(
            text=memory.text,
            embedding=memory.embedding,
            other=memory.other,
            user_id=chunk.user_id,
            kind=kind,
            thread_id=chunk.thread,
            source=source,
            source_event_ids=tuple(turn.event_id for turn in chunk.turns),
            start_ms=start_ms,
            end_ms=event_ms(chunk.turns[-1].event_id),
            # The episode happened when it started.
            event_ms=start_ms,
        )
        new, doc = document(chunk.ns, new_ulid(now_ms), item, now_ms, episodic_ttl_ms)
        return new, doc, item

    def _insert(
        self,
        *,
        ns: str,
        new: Memory,
        doc: str,
        item: NewMemory,
        max_distance: float,
        field: ModelField | None,
    ) -> tuple[Arg, ...]:
        """The `insert_item` of a formed memory: its dedup queries, vectors
        (in `field`), expiry and document."""
        store = self._long_term
        nearest = store.nearest_field(field, max_distance)
        queries = dedup_queries(
            ns, new.create_ms, item.user_id, item.kind, item.text, nearest=nearest
        )
        vectors = store.vectors(item.embedding, item.other, field)
        return insert_item(queries=queries, vectors=vectors, expire_ms=new.expire_ms, document=doc)

    async def skip(self, chunk: Chunk) -> bool:
        """Counts a chunk's trimmed turns, when it has no turns to form;
        False when the session changed (nothing written)."""
        return bool((await self._write(chunk, [], [], 0.0))[0])

    async def _write(
        self,
        chunk: Chunk,
        memory_ids: Sequence[str],
        inserts: Sequence[Sequence[Arg]],
        max_distance: float,
    ) -> Any:
        """One call of `memory_form.lua` (see there for the reply)."""
        index, legacy = await self._long_term.index_names(chunk.ns)
        return await self._form(
            MemoryForm(
                session=keys.session(chunk.ns, chunk.thread),
                sequence=keys.memory_sequence(chunk.ns),
                documents=[keys.memory(chunk.ns, memory_id) for memory_id in memory_ids],
                create_ms=chunk.create_ms,
                formed_through=chunk.formed_through,
                through=chunk.through,
                turns=len(chunk.turns),
                skipped=chunk.skipped,
                index=index,
                legacy_index=legacy,
                vector_type=self._long_term.vector_type,
                max_distance=max_distance,
                prefix=keys.memory(chunk.ns, ""),
                items=inserts,
            )
        )


def _before(found: list[FoldTurn], newest_skipped: str) -> str:
    """Where a skip-only step moves the cursor: just before the oldest turn
    still in the log (its trimmed predecessors are counted), else past the
    newest turn that left."""
    if not found:
        return newest_skipped
    ms, seq = found[0].event_id.split("-")
    return f"{ms}-{int(seq) - 1}" if int(seq) else f"{int(ms) - 1}-{2**64 - 1}"
