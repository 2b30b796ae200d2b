"""Checkpoints (`Checkpoints`): a framework's saved thread states, on their
own keys (`store/keys.py`, `checkpoint_*`), never trimmed nor expired.

Per thread, a Set of its checkpoint namespaces (each as its `tag_value`);
per checkpoint namespace, a ZSet of its checkpoint ids, all scored 0 so that
Redis keeps them in byte order (ranks and `ZREVRANGEBYLEX` page through
them newest first), and a Set of the ids with pending writes (writes may
come before their checkpoint); per checkpoint, a Hash:

| field       | holds                                     |
|-------------|-------------------------------------------|
| `parent`    | the parent checkpoint's id ('' for none)  |
| `run`       | the run id ('' for none)                  |
| `run_tag`   | its `tag_value`, naming the run's Set     |
| `metadata`  | a JSON object                             |
| `encoding`, `data` | the client's serialized state      |
| `update_ms` | when it was stored                        |

and a Hash of its pending writes, field `<task id>:<index>`, value the
serialized `CheckpointWrite` message. Per run, a Set of its checkpoints
(`<thread tag>:<cpns tag>:<id>`). Every change is one Lua script
(`lua/checkpoint_*.lua`, keys built by `lua/lib/checkpoints.lua`), so the
listing, the run Sets and the checkpoints never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from memrpc.store import keys, memory_document, scripts
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import (
    CheckpointCopy,
    CheckpointDeleteRuns,
    CheckpointPrune,
    CheckpointPut,
    CheckpointRead,
    CheckpointWrites,
)

Fields = dict[bytes, bytes]


class _Place(TypedDict):
    """A checkpoint namespace of a thread, as the scripts take it: the
    thread's Set and the tags of the thread and the checkpoint namespace."""

    thread: str
    thread_tag: str
    cpns: str


def _place(ns: str, thread: str, cpns: str) -> _Place:
    return _Place(
        thread=keys.checkpoint_thread(ns, thread),
        thread_tag=keys.tag_value(thread),
        cpns=keys.tag_value(cpns),
    )


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint's id, Hash fields and pending writes (serialized
    `CheckpointWrite` messages, in no order)."""

    checkpoint_id: str
    fields: Fields
    writes: list[bytes]


@dataclass(frozen=True)
class NewCheckpoint:
    """A checkpoint to store: where, its parent's and run's ids ('' for
    none), its metadata (a JSON object) and its serialized state."""

    thread: str
    cpns: str
    checkpoint_id: str
    parent: str
    run: str
    metadata: str
    encoding: str
    data: bytes


@dataclass(frozen=True)
class Write:
    """A pending write to record: its field, its serialized message, and
    whether it replaces one stored under its field (special writes)."""

    field: str
    value: bytes
    replace: bool


def _fields(flat: Sequence[bytes]) -> Fields:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _stored(reply: Sequence[Sequence[object]]) -> list[StoredCheckpoint]:
    found = []
    for checkpoint_id, flat, writes in reply:
        assert isinstance(checkpoint_id, bytes)
        assert isinstance(flat, list)
        assert isinstance(writes, list)
        found.append(StoredCheckpoint(checkpoint_id.decode(), _fields(flat), writes[1::2]))
    return found


class CheckpointStore:
    """Reads and writes checkpoints."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._put = scripts.load(redis, CheckpointPut)
        self._writes = scripts.load(redis, CheckpointWrites)
        self._read = scripts.load(redis, CheckpointRead)
        self._prune = scripts.load(redis, CheckpointPrune)
        self._delete_runs = scripts.load(redis, CheckpointDeleteRuns)
        self._copy = scripts.load(redis, CheckpointCopy)

    async def put(self, ns: str, new: NewCheckpoint, *, now_ms: int) -> None:
        """Stores a checkpoint, replacing one with the same id (whose
        pending writes stay), as of `now_ms`."""
        await self._put(
            CheckpointPut(
                **_place(ns, new.thread, new.cpns),
                checkpoint_id=new.checkpoint_id,
                run_tag=keys.tag_value(new.run) if new.run else "",
                run=new.run,
                parent=new.parent,
                metadata=new.metadata,
                encoding=new.encoding,
                data=new.data,
                now_ms=now_ms,
                namespace=ns,
            )
        )

    async def put_writes(
        self, ns: str, thread: str, cpns: str, checkpoint_id: str, writes: Sequence[Write]
    ) -> int:
        """Records pending writes; returns how many were stored."""
        stored = await self._writes(
            CheckpointWrites(
                **_place(ns, thread, cpns),
                checkpoint_id=checkpoint_id,
                namespace=ns,
                writes=[(w.field, w.value, "1" if w.replace else "0") for w in writes],
            )
        )
        return int(stored)

    async def namespaces(self, ns: str, thread: str) -> list[str]:
        """The checkpoint namespaces of a thread that hold anything."""
        tags = await self._redis.execute("SMEMBERS", keys.checkpoint_thread(ns, thread))
        return sorted(memory_document.unhex(tag.decode()) for tag in tags)

    async def get(
        self, ns: str, thread: str, cpns: str, checkpoint_id: str
    ) -> StoredCheckpoint | None:
        """The checkpoint `checkpoint_id`, or the latest for ''."""
        found = await self.read(ns, thread, cpns, checkpoint_id=checkpoint_id, before="", count=1)
        return found[0] if found else None

    async def read(
        self,
        ns: str,
        thread: str,
        cpns: str,
        *,
        checkpoint_id: str = "",
        before: str,
        count: int,
    ) -> list[StoredCheckpoint]:
        """The checkpoint `checkpoint_id`, or else up to `count` checkpoints
        of the highest ids below `before` ('' for no bound), highest first."""
        reply = await self._read(
            CheckpointRead(
                **_place(ns, thread, cpns),
                checkpoint_id=checkpoint_id,
                before=f"({before}" if before else "+",
                count=count,
                namespace=ns,
            )
        )
        return _stored(reply)

    async def prune(self, ns: str, thread: str, *, keep_latest: bool) -> int:
        """Deletes a thread's checkpoints, but the newest of each checkpoint
        namespace with `keep_latest`; returns how many were deleted."""
        deleted = await self._prune(
            CheckpointPrune(
                thread=keys.checkpoint_thread(ns, thread),
                thread_tag=keys.tag_value(thread),
                keep=int(keep_latest),
                namespace=ns,
            )
        )
        return int(deleted)

    async def delete_runs(self, ns: str, runs: Sequence[str]) -> int:
        """Deletes the checkpoints of `runs`; returns how many were deleted."""
        if not runs:
            return 0
        deleted = await self._delete_runs(
            CheckpointDeleteRuns(runs=[keys.checkpoint_run(ns, run) for run in runs], namespace=ns)
        )
        return int(deleted)

    async def copy(self, ns: str, source: str, target: str) -> int:
        """Copies a thread's checkpoints to another; returns how many."""
        copied = await self._copy(
            CheckpointCopy(
                source=keys.checkpoint_thread(ns, source),
                target=keys.checkpoint_thread(ns, target),
                source_thread=keys.tag_value(source),
                target_thread=keys.tag_value(target),
                namespace=ns,
            )
        )
        return int(copied)
