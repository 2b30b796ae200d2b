"""The move of stored vectors to another embedding model (re-embedding),
namespace by namespace, while the server serves them.

| key                               | type | holds                           |
|-----------------------------------|------|---------------------------------|
| `memrpc:model:next{memrpc:model}` | Hash | the model moved to              |
|                                   |      | (`model_record.py`)             |
| `memrpc:reembed:{ns}`             | Hash | a namespace's move (below)      |
| `memrpc:mem:{ns}:<id>`            | Hash | a memory: its vector of the     |
|                                   |      | model moved to goes in `v_<f>`  |
|                                   |      | beside `v`                      |

The fields of `memrpc:reembed:{ns}`:

| field         | holds                                                      |
|---------------|------------------------------------------------------------|
| `to`          | the fingerprint of the model moved to; a state of another  |
|               | model (an earlier move) counts as none                     |
| `filled`      | new vectors the job wrote in the namespace, in all         |
| `switched`    | `1` once the namespace's searches and dedup use the new    |
|               | model                                                      |
| `switched_ms` | when it switched                                           |
| `done`        | `1` once no memory lacks the new vector, checked           |
|               | `REEMBED_SETTLE_S` after the switch                        |
| `cleaned`     | `1` once the old model's vectors are removed (after the    |
|               | end)                                                       |

The index finds the work, so that a step costs what it does, whatever the
other namespaces hold: every vector field is `INDEXMISSING`
(`memory_index.vector_field_args`). A `step` of a namespace searches for at
most `REEMBED_BATCH` of its memories lacking the new field
(`@ns:{...} ismissing(@<new>)`, `NOCONTENT`, `TIMEOUT 0`, `DIALECT 4`: it
stops at the batch, like the migration's), reads their texts
(`lua/reembed_read.lua`), embeds them in one batch, and writes each vector
where the memory still exists with the text read (`lua/reembed_write.lua`).
The search drains as the job fills, so a crashed job resumes where the
index says. A step that finds none, once Search has indexed every memory
for the new field (`FT.ALTER` adds it and indexes the existing memories in
the background; until then `ismissing` misses the memories not scanned
yet), switches the namespace; one that finds none at least
`REEMBED_SETTLE_S` after the switch (by when no process still writes a
memory with the old model's vector alone) marks it done. When every
namespace is done, `finish` makes the new model the default and deletes
`memrpc:model:next{memrpc:model}` (`lua/reembed_finish.lua`). Once
`REEMBED_CLEANUP_DELAY_S` has passed since, `cleanup_step`s remove the old
model's field from each namespace's memories in the same bounded steps,
found the same way (`-ismissing(@<old>)`).

Steps of one namespace run under its lease (`jobs/reembed.py`): the state
is only written by the runner holding it, each write one `HSET`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from memrpc.embedding import Embedder
from memrpc.limits import REEMBED_BATCH, REEMBED_SETTLE_S
from memrpc.store import keys, scripts
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import INDEX, ModelField, field_of_hash, indexing, info_command
from memrpc.store.memory_indexes import MemoryIndexes
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import ReembedCleanup, ReembedFinish, ReembedRead, ReembedWrite


@dataclass(frozen=True)
class MoveState:
    """A namespace's move to a model (`memrpc:reembed:{ns}`, its fields)."""

    filled: int = 0
    switched: bool = False
    switched_ms: int = 0
    done: bool = False
    cleaned: bool = False


@dataclass(frozen=True)
class Target:
    """The model a move goes to: its embedder (the background lane) and
    field, and the fingerprint that names the move."""

    embedder: Embedder
    field: ModelField

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the model."""
        return self.embedder.identity.fingerprint


def lacking(ns: str, field: ModelField, *, lacks: bool = True) -> list[str | int]:
    """The search for at most `REEMBED_BATCH` memory keys of `ns` lacking
    vector field `field` (`lacks=False`: holding it). `DIALECT 4` stops at
    the batch rather than counting every match (its total is not one)."""
    missing = f"ismissing(@{field.index})"
    query = f"@ns:{{{keys.tag_value(ns)}}} {missing if lacks else '-' + missing}"
    return ["FT.SEARCH", INDEX, query, "NOCONTENT", "LIMIT", 0, REEMBED_BATCH,
            "TIMEOUT", 0, "DIALECT", 4]  # fmt: skip


async def read_state(redis: RedisClient, ns: str, fingerprint: str) -> MoveState:
    """The move of `ns` to the model of `fingerprint` (none yet: a fresh
    state)."""
    found = await redis.execute("HGETALL", keys.reembed(ns))
    fields = {
        name.decode(): value.decode() for name, value in zip(found[::2], found[1::2], strict=True)
    }
    if fields.get("to") != fingerprint:
        return MoveState()
    return MoveState(
        filled=int(fields.get("filled", 0)),
        switched=fields.get("switched") == "1",
        switched_ms=int(fields.get("switched_ms", 0)),
        done=fields.get("done") == "1",
        cleaned=fields.get("cleaned") == "1",
    )


async def switched(redis: RedisClient, ns: str, fingerprint: str) -> bool:
    """Whether `ns` has switched to the model of `fingerprint` (one HMGET)."""
    to, flag = await redis.execute("HMGET", keys.reembed(ns), "to", "switched")
    return to is not None and to.decode() == fingerprint and flag == b"1"


@dataclass(frozen=True)
class Step:
    """What one step did: memory keys it looked at, new vectors it wrote;
    the state it saved."""

    seen: int
    filled: int
    state: MoveState


class Reembed:
    """Steps of a move to `target` on one Redis, vectors as `vector_type`."""

    def __init__(self, redis: RedisClient, target: Target, vector_type: VectorType) -> None:
        self._redis = redis
        self._indexes = MemoryIndexes(redis)
        self.target = target
        self._vector_type = vector_type
        self._read = scripts.load(redis, ReembedRead)
        self._write = scripts.load(redis, ReembedWrite)
        self._cleanup = scripts.load(redis, ReembedCleanup)
        self._finish = scripts.load(redis, ReembedFinish)

    async def state(self, ns: str) -> MoveState:
        """The move of `ns` to the target."""
        return await read_state(self._redis, ns, self.target.fingerprint)

    async def memories(self, ns: str) -> int:
        """How many memories `ns` holds (one `FT.SEARCH ... LIMIT 0 0`)."""
        found = await self._indexes.run(
            ns, ["FT.SEARCH", INDEX, f"@ns:{{{keys.tag_value(ns)}}}", "LIMIT", 0, 0, "DIALECT", 2]
        )
        return int(found[0])

    async def step(self, ns: str, now_ms: int) -> Step:
        """Fills the new vectors of at most `REEMBED_BATCH` memories of `ns`
        lacking them; when none lacks it, switches the namespace, or marks
        it done (`REEMBED_SETTLE_S` after the switch)."""
        state = await self.state(ns)
        if state.done:
            return Step(0, 0, state)
        field = self.target.field
        found = await self._indexes.run(ns, lacking(ns, field))
        documents = [key.decode() for key in found[1:]]
        if not documents:
            return Step(0, 0, await self._settle(ns, state, now_ms))
        prefix = keys.memory(ns, "")
        texts: dict[str, tuple[bytes, str]] = {}
        read = await self._read(ReembedRead(documents=documents, prefix=prefix, field=field.hash))
        for key, value in zip(documents, read, strict=True):
            if value and value[0] is not None and value[1] is not None:
                texts[key] = (value[0], value[1].decode())
        filled = 0
        if texts:
            vectors = await self.target.embedder.embed([text for _, text in texts.values()])
            items = [
                (text_hash, self._vector_type.blob(vector))
                for (text_hash, _), vector in zip(texts.values(), vectors, strict=True)
            ]
            filled = await self._write(
                ReembedWrite(documents=list(texts), prefix=prefix, field=field.hash, items=items)
            )
        state = dataclasses.replace(state, filled=state.filled + filled)
        await self._save(ns, state)
        return Step(len(documents), filled, state)

    async def _settle(self, ns: str, state: MoveState, now_ms: int) -> MoveState:
        """`ns` has no memory lacking the new vector: switches it, or marks
        it done once `REEMBED_SETTLE_S` has passed since the switch; neither
        while Search is still indexing (it may not have seen them all)."""
        settled = state.switched and now_ms >= state.switched_ms + REEMBED_SETTLE_S * 1000
        if (state.switched and not settled) or await self._indexing():
            return state
        if settled:
            state = dataclasses.replace(state, done=True)
        else:
            state = dataclasses.replace(state, switched=True, switched_ms=now_ms)
        await self._save(ns, state)
        return state

    async def _indexing(self) -> bool:
        """Whether Search is indexing the existing memories in any index
        (after an `FT.ALTER`)."""
        for name in await self._redis.keys_per_primary(INDEX):
            if indexing(await self._redis.execute(*info_command(name))):
                return True
        return False

    async def _save(self, ns: str, state: MoveState) -> None:
        """Saves `state` (one HSET)."""
        await self._redis.execute("HSET", keys.reembed(ns), *_fields(self.target, state))

    async def finish(self, now_ms: int) -> bool:
        """Ends the move if it is still the target's: the target becomes the
        default model. Call it once every namespace is done."""
        ended: int = await self._finish(
            ReembedFinish(
                record=keys.model(),
                next=keys.model_next(),
                fingerprint=self.target.fingerprint,
                now_ms=now_ms,
            )
        )
        return bool(ended)

    async def cleanup_step(self, ns: str, old: ModelField) -> tuple[int, MoveState]:
        """Removes the old model's vectors `old` of at most `REEMBED_BATCH`
        memories of `ns` holding them; when none does, marks the namespace
        cleaned. Returns the vectors removed and the state saved."""
        state = await self.state(ns)
        if state.cleaned:
            return 0, state
        found = await self._indexes.run(ns, lacking(ns, old, lacks=False))
        documents = [key.decode() for key in found[1:]]
        removed = 0
        if documents:
            removed = await self._cleanup(
                ReembedCleanup(documents=documents, prefix=keys.memory(ns, ""), field=old.hash)
            )
        state = dataclasses.replace(state, switched=True, done=True, cleaned=not documents)
        await self._save(ns, state)
        return removed, state


async def ended_move(redis: RedisClient) -> tuple[str, ModelField] | None:
    """The move that ended and whose old vectors are still to be removed:
    the fingerprint of the model moved to and the old model's field; None
    when there is none."""
    fingerprint, previous = await redis.execute(
        "HMGET", keys.model(), "fingerprint", "previous_field"
    )
    if fingerprint is None or previous is None:
        return None
    return fingerprint.decode(), field_of_hash(previous.decode())


async def cleaned(redis: RedisClient) -> None:
    """Records that the old vectors of the ended move are removed
    everywhere."""
    await redis.execute("HDEL", keys.model(), "previous_field")


def _fields(target: Target, state: MoveState) -> list[str]:
    """The Hash fields of `state` for the move to `target`, flattened."""
    values: Mapping[str, str | int] = {
        "to": target.fingerprint,
        "filled": state.filled,
        "switched": int(state.switched),
        "switched_ms": state.switched_ms,
        "done": int(state.done),
        "cleaned": int(state.cleaned),
    }
    return [str(part) for pair in values.items() for part in pair]
