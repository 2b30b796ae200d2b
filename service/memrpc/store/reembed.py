"""The move of stored vectors to another embedding model (re-embedding),
namespace by namespace, while the server serves them.

| key                        | type | holds                                  |
|----------------------------|------|----------------------------------------|
| `memrpc:model:next`        | Hash | the model moved to (`model_record.py`) |
| `memrpc:reembed:{ns}`      | Hash | a namespace's move (fields below)      |
| `memrpc:mem:{ns}:<id>`     | Hash | a memory: its vector of the model      |
|                            |      | moved to goes in `v_<f>` beside `v`    |

The fields of `memrpc:reembed:{ns}`:

| field      | holds                                                         |
|------------|---------------------------------------------------------------|
| `to`       | the fingerprint of the model moved to; a state of another     |
|            | model (an earlier move) counts as none                        |
| `cursor`   | the `SCAN` cursor of the pass in progress (`0`: at its start) |
| `missing`  | memories the pass in progress found lacking the new vector    |
| `filled`   | new vectors the job wrote in the namespace, in all            |
| `switched` | `1` once the namespace's searches and dedup use the new model |
| `done`     | `1` once a full pass after the switch is over                 |
| `cleaned`  | `1` once the old model's vectors are removed (after the end)  |

A `step` of a namespace `SCAN`s its memory keys (`MATCH` its prefix, `COUNT
REEMBED_BATCH`), reads the text of those Hashes lacking the new field
(`lua/reembed_read.lua`), embeds them in one batch, and writes each vector
where the memory still exists with the text read (`lua/reembed_write.lua`);
then it saves the cursor, so a crashed job resumes there. A pass that ends
having found nothing missing switches the namespace; the next full pass
(which fills what writes racing the switch left out) marks it done. When
every namespace is done, `finish` makes the new model the default and
deletes `memrpc:model:next` (`lua/reembed_finish.lua`). Once
`REEMBED_CLEANUP_DELAY_S` has passed since, `cleanup_step`s remove the old
model's field from each namespace's memories in the same bounded steps.

Steps of one namespace run under its lease (`jobs/reembed.py`): the state
is only written by the runner holding it, each write one `HSET`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from memrpc.embedding import Embedder
from memrpc.limits import REEMBED_BATCH
from memrpc.store import keys, scripts
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import INDEX, ModelField, field_of_hash
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import ReembedCleanup, ReembedFinish, ReembedRead, ReembedWrite

# The characters of a namespace that a SCAN pattern would read as a glob.
_GLOB = re.compile(r"([*?\[\]\\])")


@dataclass(frozen=True)
class MoveState:
    """A namespace's move to a model (`memrpc:reembed:{ns}`, its fields)."""

    cursor: str = "0"
    missing: int = 0
    filled: int = 0
    switched: bool = False
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


def pattern(ns: str) -> str:
    """The `SCAN MATCH` pattern of the memory keys of `ns`."""
    return _GLOB.sub(r"\\\1", keys.memory(ns, "")) + "*"


async def read_state(redis: RedisMux, ns: str, fingerprint: str) -> MoveState:
    """The move of `ns` to the model of `fingerprint` (none yet: a fresh
    state)."""
    found = await redis.execute("HGETALL", keys.reembed(ns))
    fields = {
        name.decode(): value.decode() for name, value in zip(found[::2], found[1::2], strict=True)
    }
    if fields.get("to") != fingerprint:
        return MoveState()
    return MoveState(
        cursor=fields.get("cursor", "0"),
        missing=int(fields.get("missing", 0)),
        filled=int(fields.get("filled", 0)),
        switched=fields.get("switched") == "1",
        done=fields.get("done") == "1",
        cleaned=fields.get("cleaned") == "1",
    )


async def switched(redis: RedisMux, ns: str, fingerprint: str) -> bool:
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

    def __init__(self, redis: RedisMux, target: Target, vector_type: VectorType) -> None:
        self._redis = redis
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
        found = await self._redis.execute(
            "FT.SEARCH", INDEX, f"@ns:{{{keys.tag_value(ns)}}}", "LIMIT", 0, 0, "DIALECT", 2
        )
        return int(found[0])

    async def step(self, ns: str) -> Step:
        """Fills the new vectors of at most one `SCAN` of `REEMBED_BATCH` of
        the memory keys of `ns`, from the saved cursor; saves the cursor and
        counts; at a pass's end, switches or marks the namespace done."""
        state = await self.state(ns)
        if state.done:
            return Step(0, 0, state)
        field = self.target.field.hash
        prefix = keys.memory(ns, "")
        cursor, found = await self._redis.execute(
            "SCAN", state.cursor, "MATCH", pattern(ns), "COUNT", REEMBED_BATCH
        )
        documents = [key.decode() for key in found]
        texts: dict[str, tuple[bytes, str]] = {}
        if documents:
            read = await self._read(ReembedRead(documents=documents, prefix=prefix, field=field))
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
                ReembedWrite(documents=list(texts), prefix=prefix, field=field, items=items)
            )
        state = await self._save(ns, state, cursor.decode(), len(texts), filled)
        return Step(len(documents), filled, state)

    async def _save(
        self, ns: str, state: MoveState, cursor: str, missing: int, filled: int
    ) -> MoveState:
        """Saves a step's cursor and counts (one HSET); at the end of a pass
        (cursor 0), a pass that found nothing missing switches the
        namespace, a pass after the switch marks it done."""
        missing += state.missing
        switched, done = state.switched, False
        if cursor == "0":
            if switched:
                done = True
            elif missing == 0:
                switched = True
            missing = 0
        new = MoveState(
            cursor=cursor,
            missing=missing,
            filled=state.filled + filled,
            switched=switched,
            done=done,
        )
        await self._redis.execute("HSET", keys.reembed(ns), *_fields(self.target, new))
        return new

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
        """Removes the old model's vectors `old` of at most one `SCAN` of
        `REEMBED_BATCH` memory keys of `ns`, from the saved cursor; at the
        pass's end marks the namespace cleaned. Returns the vectors removed
        and the state saved."""
        state = await self.state(ns)
        if state.cleaned:
            return 0, state
        cursor, found = await self._redis.execute(
            "SCAN", state.cursor, "MATCH", pattern(ns), "COUNT", REEMBED_BATCH
        )
        removed = 0
        if found:
            removed = await self._cleanup(
                ReembedCleanup(
                    documents=[key.decode() for key in found],
                    prefix=keys.memory(ns, ""),
                    field=old.hash,
                )
            )
        new = MoveState(
            cursor=cursor.decode(),
            filled=state.filled,
            switched=True,
            done=True,
            cleaned=cursor == b"0",
        )
        await self._redis.execute("HSET", keys.reembed(ns), *_fields(self.target, new))
        return removed, new


async def ended_move(redis: RedisMux) -> tuple[str, ModelField] | None:
    """The move that ended and whose old vectors are still to be removed:
    the fingerprint of the model moved to and the old model's field; None
    when there is none."""
    fingerprint, previous = await redis.execute(
        "HMGET", keys.model(), "fingerprint", "previous_field"
    )
    if fingerprint is None or previous is None:
        return None
    return fingerprint.decode(), field_of_hash(previous.decode())


async def cleaned(redis: RedisMux) -> None:
    """Records that the old vectors of the ended move are removed
    everywhere."""
    await redis.execute("HDEL", keys.model(), "previous_field")


def _fields(target: Target, state: MoveState) -> list[str]:
    """The Hash fields of `state` for the move to `target`, flattened."""
    values: Mapping[str, str | int] = {
        "to": target.fingerprint,
        "cursor": state.cursor,
        "missing": state.missing,
        "filled": state.filled,
        "switched": int(state.switched),
        "done": int(state.done),
        "cleaned": int(state.cleaned),
    }
    return [str(part) for pair in values.items() for part in pair]
