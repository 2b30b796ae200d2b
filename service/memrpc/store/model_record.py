"""The records of the embedding models that made the stored vectors.

| key                               | type | holds                         |
|-----------------------------------|------|-------------------------------|
| `memrpc:model`                    | Hash | the default model, every      |
|                                   |      | namespace's unless moved:     |
|                                   |      | `name`, `dim`, `fingerprint`  |
|                                   |      | (`embedding/identity.py`),    |
|                                   |      | `recorded_ms` (when recorded) |
|                                   |      | and `field`: the Hash field   |
|                                   |      | of its vectors (absent: `v`)  |
| `memrpc:model:next{memrpc:model}` | Hash | the model a move goes to, the |
|                                   |      | same fields: present only     |
|                                   |      | while a move runs             |
|                                   |      | (`store/reembed.py`)          |

Keys outside every namespace: one index holds every namespace's vectors.
The second is tagged with the first's name, so that both are in one slot
of a Redis Cluster, as the scripts that touch both need.
`claim` records a model when none is recorded, and the model to move to
when given and no move is recorded, and returns the records, in one script
(`lua/model_record.lua`): of servers starting together, one records its
model and all read it. A Redis holding memories written before the record
existed has none: the first server to start records its own model (the
packaged one is the only model memrpc shipped). The end of a move makes
the next model the default and deletes `memrpc:model:next{memrpc:model}`,
in one script (`store/reembed.py`); nothing else rewrites the records.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from redis import exceptions as redis_exceptions

from memrpc.embedding.identity import ModelIdentity
from memrpc.store import keys, scripts
from memrpc.store.memory_index import ORIGINAL_FIELD, ModelField, field_of_hash, model_field
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import ModelRecord

_FIELDS = ("name", "dim", "fingerprint", "recorded_ms")
# The values of the script's reply per record: `_FIELDS` and `field`.
_VALUES = len(_FIELDS) + 1


class MalformedRecord(ValueError):
    """`memrpc:model` lacks a field or holds one that does not parse; the
    message says which."""


@dataclass(frozen=True)
class StoredModel:
    """A recorded model, the field of its vectors, and when it was recorded
    (ms since the epoch)."""

    identity: ModelIdentity
    field: ModelField
    recorded_ms: int


@dataclass(frozen=True)
class RecordedModel:
    """The default model of the record, when it was recorded (ms since the
    epoch), whether the claim that read it made it, the field of its
    vectors, and the model a move goes to (None: no move runs)."""

    identity: ModelIdentity
    recorded_ms: int
    recorded_now: bool
    field: ModelField = ORIGINAL_FIELD
    next: StoredModel | None = None


async def claim(
    redis: RedisClient, identity: ModelIdentity, *, now_ms: int, next: ModelIdentity | None = None
) -> RecordedModel:
    """Records `identity` at `now_ms` unless a model is recorded, and `next`
    (if given) as the model to move to when the record is `identity`'s and
    no move is recorded; returns the records. Raises `MalformedRecord` for
    a record that is not one. A move recorded under the legacy name
    (`keys.LEGACY_MODEL_NEXT`, by a server before 2026-12) is renamed first,
    on one Redis (a cluster never held one)."""
    if await redis.execute("EXISTS", keys.LEGACY_MODEL_NEXT):
        with contextlib.suppress(redis_exceptions.ResponseError):  # renamed meanwhile
            await redis.execute("RENAMENX", keys.LEGACY_MODEL_NEXT, keys.model_next())
    reply = await scripts.load(redis, ModelRecord)(
        ModelRecord(
            record=keys.model(),
            next=keys.model_next(),
            name=identity.name,
            dim=identity.dim,
            fingerprint=identity.fingerprint,
            now_ms=now_ms,
            next_name="" if next is None else next.name,
            next_dim=0 if next is None else next.dim,
            next_fingerprint="" if next is None else next.fingerprint,
            next_field="" if next is None else model_field(next.fingerprint).hash,
        )
    )
    default = _stored(keys.model(), reply[:_VALUES])
    assert default is not None
    return RecordedModel(
        default.identity,
        default.recorded_ms,
        bool(reply[_VALUES]),
        default.field,
        _stored(keys.model_next(), reply[_VALUES + 1 :]),
    )


def _stored(key: str, values: list[bytes | None]) -> StoredModel | None:
    """The record of `key` from its `_FIELDS` and `field` values; None when
    the key does not exist (no value)."""
    *present, field = values
    if key == keys.model_next() and all(value is None for value in present):
        return None
    missing = [name for name, value in zip(_FIELDS, present, strict=True) if value is None]
    if missing:
        raise MalformedRecord(f"{key} lacks the field {', '.join(missing)}")
    name, dim, fingerprint, recorded_ms = (value.decode() for value in present if value)
    hash_field = ORIGINAL_FIELD if field is None else field_of_hash(field.decode())
    try:
        return StoredModel(ModelIdentity(name, int(dim), fingerprint), hash_field, int(recorded_ms))
    except ValueError:
        raise MalformedRecord(
            f"{key} holds a dim or recorded_ms that is not an integer: {dim!r}, {recorded_ms!r}"
        ) from None
