"""Writing an export's records into an empty namespace (`api/portability.py`),
in bounded batches, each batch's commands sent together (pipelined on the
shared connection, in order; on a Redis Cluster every key of the namespace
is on the node of its `{ns}` slot, so one connection carries a batch).

What each record becomes, in the layout of `keys.py`:

| record       | written                                                      |
|--------------|--------------------------------------------------------------|
| session      | its Hash (the fields of `store/working.py`), `PEXPIREAT` its |
|              | expire time, its entries in the namespace's and its user's   |
|              | listing indexes (scored by its update time)                  |
| user threads | `ZADD NX` of each (first seen ms, thread) to the user's      |
|              | durable threads                                              |
| event        | `XADD` with its own id to its thread's log, with `prev`, the |
|              | id of the event before it in the import (`0-0` for a         |
|              | thread's first: the restored log starts there, as            |
|              | `lua/lib/events.lua` would write it); never the namespace    |
|              | feed, so consumer groups and jobs do not see it again        |
| memory       | its Hash in storage schema 4 (`store/memory_document.py`:    |
|              | the index fields made again for the target namespace), its   |
|              | vector in the field of the namespace's model, `PEXPIREAT` its |
|              | expire time; `q` its exported number, and the counter         |
|              | `keys.memory_sequence` raised to the highest, so that later   |
|              | memories come after; the namespace added to                   |
|              | `keys.namespaces`, so that the background jobs see it        |
| checkpoint   | through `CheckpointStore` as `PutCheckpoint` and             |
|              | `PutCheckpointWrites` write it, as of its `update_time`      |

A session's summary cursor (`folded_through`) is the last turn its summary
folds (`0-0` without one), so that the turns still pending are folded once
the thread moves on; memory formation's (`formed_through`) is right before
the window's first turn, with every evicted turn counted formed, as the
exported memories hold what was formed: nothing is formed twice, and the
window's turns are formed once they leave it.

A record the export repeated (a `SCAN` may return a key twice) writes the
same values again, but an event already in its log, which `XADD` refuses
(an id not above the log's newest): it is counted as a repeat and skipped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import redis.exceptions

from memrpc.store import keys, memory_document
from memrpc.store.checkpoints import CheckpointStore, NewCheckpoint, Write
from memrpc.store.events import BEFORE_FIRST, EventContent
from memrpc.store.long_term import Memory
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import Flag, ModelField, index_fields
from memrpc.store.namespace_scan import scan_pages
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import Arg, RedisClient

# The kinds of keys that make a namespace not empty for an import: sessions,
# thread logs, memories, users' durable threads, threads' checkpoints.
_CONTENT = ("ses", "ev", "mem", "userthreads", "cpthread")
# How many keys one `SCAN` of the emptiness check asks for.
SCAN_COUNT = 1000


@dataclass(frozen=True)
class SessionTurn:
    """A turn of a session's window."""

    role: str
    content: str
    metadata: dict[str, str]
    create_ms: int
    event_id: str


@dataclass(frozen=True)
class ImportedSession:
    """A session to restore; `summary_*` as `store/summaries.py` holds them,
    `pending` the turns evicted and not folded yet."""

    thread: str
    user: str
    goal: str
    scratchpad: str
    metadata: dict[str, str]
    turns: Sequence[SessionTurn]
    create_ms: int
    update_ms: int
    expire_ms: int
    version: int
    turn_count: int
    form_memories: bool | None
    summary: str
    summary_first: str
    summary_last: str
    summary_turns: int
    summary_skipped: int
    summary_ms: int
    summarizer: str
    pending: int


@dataclass(frozen=True)
class ImportedEvent:
    """An event to restore with its id."""

    thread: str
    id: str
    content: EventContent


@dataclass(frozen=True)
class ImportedCheckpoint:
    """A checkpoint to restore, when it was stored, and its pending writes."""

    checkpoint: NewCheckpoint
    update_ms: int
    writes: Sequence[Write]


@dataclass(frozen=True)
class ImportedMemory:
    """A memory to restore: `vector` its float32 values; `recalled_ms` the
    last search that returned it (None: none did); `seq` its number in the
    order of writing (0: unknown)."""

    memory: Memory
    vector: bytes
    recalled_ms: int | None
    seq: int


class ImportWriter:
    """Writes records into one namespace, vectors as `vector_type`."""

    def __init__(self, redis: RedisClient, vector_type: VectorType) -> None:
        self._redis = redis
        self._vector_type = vector_type
        self._checkpoints = CheckpointStore(redis)
        self._namespaces = NamespaceSet(redis)
        # The thread of the last event written and its id: the `prev` of the next.
        self._last: tuple[str, str] = ("", BEFORE_FIRST)
        self._highest_seq = 0

    async def is_empty(self, ns: str) -> bool:
        """Whether the namespace holds no session, thread log, memory, user
        threads or checkpoints: a `SCAN` of its node for its keys (it stops at the
        first)."""
        pattern = f"{keys.PREFIX}:*:{{{ns}}}:*"
        async for found in scan_pages(self._redis, ns, pattern, SCAN_COUNT):
            for key in found:
                kind, _, rest = key.decode().removeprefix(f"{keys.PREFIX}:").partition(":")
                if kind in _CONTENT and rest.startswith(f"{{{ns}}}:"):
                    return False
        return True

    async def _send(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """The replies of `commands`, sent together in order; an error is
        returned as its exception."""
        return list(
            await asyncio.gather(
                *(self._redis.execute(*command) for command in commands), return_exceptions=True
            )
        )

    async def sessions(self, ns: str, sessions: Sequence[ImportedSession]) -> None:
        """Writes a batch of sessions (none expired)."""
        commands: list[Sequence[Arg]] = []
        for session in sessions:
            commands += _session_commands(ns, session)
        _raise_first(await self._send(commands))

    async def user_threads(self, ns: str, user: str, threads: Sequence[tuple[str, int]]) -> None:
        """Adds threads (thread, first seen ms) to a user's durable threads."""
        if not threads:
            return
        flat: list[Arg] = []
        for thread, first_seen in threads:
            flat += [first_seen, thread]
        _raise_first(await self._send([("ZADD", keys.user_threads(ns, user), "NX", *flat)]))

    async def events(self, ns: str, events: Sequence[ImportedEvent]) -> int:
        """Appends a batch of events to their logs, in order, each with its
        id; returns how many were repeats of events already there (skipped)."""
        commands: list[Sequence[Arg]] = []
        for event in events:
            thread, prev = self._last
            if thread != event.thread:
                prev = BEFORE_FIRST
            commands.append(
                (
                    "XADD",
                    keys.events(ns, event.thread),
                    event.id,
                    "prev",
                    prev,
                    *event.content.fields(),
                )
            )
            self._last = (event.thread, event.id)
        repeats = 0
        for reply in await self._send(commands):
            if isinstance(reply, redis.exceptions.ResponseError) and "equal or smaller" in str(
                reply
            ):
                repeats += 1
            elif isinstance(reply, BaseException):
                raise reply
        return repeats

    async def memories(
        self, ns: str, memories: Sequence[ImportedMemory], field: ModelField
    ) -> None:
        """Writes a batch of memories (none expired), vectors to `field`."""
        if not memories:
            return
        await self._namespaces.note(ns)
        commands: list[Sequence[Arg]] = []
        for item in memories:
            key = keys.memory(ns, item.memory.id)
            pairs: list[Arg] = []
            for name, value in _memory_fields(ns, item).items():
                pairs += [name, value]
            vector = self._vector_type.blob(np.frombuffer(item.vector, dtype="<f4"))
            commands.append(("DEL", key))
            commands.append(("HSET", key, *pairs, field.hash, vector))
            if item.memory.expire_ms:
                commands.append(("PEXPIREAT", key, item.memory.expire_ms))
            self._highest_seq = max(self._highest_seq, item.seq)
        _raise_first(await self._send(commands))

    async def checkpoints(self, ns: str, checkpoints: Sequence[ImportedCheckpoint]) -> None:
        """Writes a batch of checkpoints with their pending writes."""
        for item in checkpoints:
            new = item.checkpoint
            await self._checkpoints.put(ns, new, now_ms=item.update_ms)
            if item.writes:
                await self._checkpoints.put_writes(
                    ns, new.thread, new.cpns, new.checkpoint_id, item.writes
                )

    async def finish(self, ns: str) -> None:
        """Raises the namespace's memory counter to the highest number
        restored, so that new memories come after them."""
        if self._highest_seq:
            sequence = keys.memory_sequence(ns)
            current = await self._redis.execute("GET", sequence)
            if current is None or int(current) < self._highest_seq:
                await self._redis.execute("SET", sequence, self._highest_seq)


def _before(event_id: str) -> str:
    """The stream id right before `event_id` (`ms-seq`)."""
    ms, _, seq = event_id.partition("-")
    if int(seq) > 0:
        return f"{ms}-{int(seq) - 1}"
    return f"{int(ms) - 1}-{2**64 - 1}" if int(ms) > 0 else BEFORE_FIRST


def _raise_first(replies: Sequence[Any]) -> None:
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _session_commands(ns: str, session: ImportedSession) -> list[Sequence[Arg]]:
    """The commands that restore a session."""
    key = keys.session(ns, session.thread)
    entries = [
        json.dumps(
            {
                "role": turn.role,
                "content": turn.content,
                "metadata": turn.metadata,
                "create_ms": turn.create_ms,
            },
            ensure_ascii=False,
        ).encode()
        for turn in session.turns
    ]
    evicted = session.summary_turns + session.summary_skipped + session.pending
    user_index = keys.session_user_index(ns, session.user) if session.user else ""
    fields: dict[str, Arg] = {
        "user_id": session.user,
        "user_idx": user_index,
        "goal": session.goal,
        "scratchpad": session.scratchpad,
        "turns": b"[" + b",".join(entries) + b"]",
        "turn_sizes": ",".join(str(len(entry)) for entry in entries),
        "turn_ids": ",".join(turn.event_id for turn in session.turns),
        "metadata": json.dumps(session.metadata),
        "create_ms": session.create_ms,
        "update_ms": session.update_ms,
        "ttl_ms": max(1, session.expire_ms - session.update_ms),
        "version": session.version,
        "turn_count": session.turn_count,
        "evicted_count": evicted,
        "folded_through": session.summary_last or BEFORE_FIRST,
        "formed_through": _formed_through(session),
        "formed_turns": evicted,
        "formed_skipped": 0,
    }
    if session.summary_last:
        fields |= {
            "summary": session.summary,
            "summary_first": session.summary_first,
            "summary_last": session.summary_last,
            "summary_turns": session.summary_turns,
            "summary_skipped": session.summary_skipped,
            "summary_ms": session.summary_ms,
            "summarizer": session.summarizer,
        }
    elif session.summary_skipped:
        fields["summary_skipped"] = session.summary_skipped
    if session.form_memories is not None:
        fields["form_memories"] = "1" if session.form_memories else "0"
    flat: list[Arg] = []
    for name, value in fields.items():
        flat += [name, value]
    commands: list[Sequence[Arg]] = [
        ("DEL", key),
        ("HSET", key, *flat),
        ("PEXPIREAT", key, session.expire_ms),
        ("ZADD", keys.session_index(ns), session.update_ms, session.thread),
    ]
    if user_index:
        commands.append(("ZADD", user_index, session.update_ms, session.thread))
    return commands


def _formed_through(session: ImportedSession) -> str:
    """Formation's cursor: right before the window's first turn, so that
    the turns of the window are formed once they leave it; without a known
    one, the summary's last turn (`0-0` for none)."""
    first = session.turns[0].event_id if session.turns else ""
    if first:
        return _before(first)
    return session.summary_last or BEFORE_FIRST


def _memory_fields(ns: str, item: ImportedMemory) -> dict[str, str]:
    """The Hash fields of a restored memory but its vector."""
    memory = item.memory
    doc = memory_document
    flags = [Flag.PINNED] if memory.pinned else []
    if memory.superseded_by:
        flags.append(Flag.SUPERSEDED)
    fields = index_fields(
        ns,
        user_id=memory.user_id,
        thread_id=memory.thread_id,
        kind=memory.kind,
        topics=memory.topics,
        text=memory.text,
        metadata=memory.metadata,
        flags=flags,
    )
    fields |= {
        doc.ID: memory.id,
        doc.TEXT: memory.text,
        doc.CREATE_MS: str(memory.create_ms),
        doc.HIT_COUNT: str(memory.hit_count),
    }
    optional = {
        doc.METADATA: _json(dict(memory.metadata)) if memory.metadata else "",
        doc.UPDATE_MS: str(memory.update_ms) if memory.update_ms != memory.create_ms else "",
        doc.EXPIRE_MS: str(memory.expire_ms) if memory.expire_ms else "",
        doc.VERSION: str(memory.version) if memory.version != 1 else "",
        doc.RECALLED_MS: "" if item.recalled_ms is None else str(item.recalled_ms),
        doc.EVENT_MS: "" if memory.event_ms is None else str(memory.event_ms),
        doc.SEQ: str(item.seq) if item.seq else "",
        doc.SOURCE: memory.source.value,
        doc.SOURCE_EVENT_IDS: _json(list(memory.source_event_ids))
        if memory.source_event_ids
        else "",
        doc.START_MS: str(memory.start_ms) if memory.start_ms else "",
        doc.END_MS: str(memory.end_ms) if memory.end_ms else "",
        doc.PINNED: "1" if memory.pinned else "",
        doc.ACCESS_COUNT: str(memory.access_count) if memory.access_count else "",
        doc.LAST_ACCESS_MS: str(memory.last_access_ms) if memory.last_access_ms else "",
        doc.MERGED_IDS: _json(list(memory.merged_ids)) if memory.merged_ids else "",
        doc.SUPERSEDED_BY: memory.superseded_by,
    }
    return fields | {name: value for name, value in optional.items() if value}
