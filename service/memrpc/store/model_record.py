"""The record of the embedding model that made the stored vectors.

| key            | type | holds                                            |
|----------------|------|--------------------------------------------------|
| `memrpc:model` | Hash | `name`, `dim` and `fingerprint` of the model     |
|                |      | (`embedding/identity.py`), and `recorded_ms`:    |
|                |      | when the first server recorded it                |

One key outside every namespace: one index holds every namespace's
vectors, so one model made them. `claim` records a model when none is
recorded and returns the record, in one script (`lua/model_record.lua`):
of servers starting together, one records its model and all read it. A
Redis holding memories written before the record existed has none: the
first server to start records its own model (the packaged one is the only
model memrpc shipped). Nothing rewrites or deletes the record; a re-embed
to another model would be the one thing to.
"""

from __future__ import annotations

from dataclasses import dataclass

from memrpc.embedding.identity import ModelIdentity
from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import ModelRecord

_FIELDS = ("name", "dim", "fingerprint", "recorded_ms")


class MalformedRecord(ValueError):
    """`memrpc:model` lacks a field or holds one that does not parse; the
    message says which."""


@dataclass(frozen=True)
class RecordedModel:
    """The model of the record, when it was recorded (ms since the epoch),
    and whether the claim that read it made it."""

    identity: ModelIdentity
    recorded_ms: int
    recorded_now: bool


async def claim(redis: RedisMux, identity: ModelIdentity, *, now_ms: int) -> RecordedModel:
    """Records `identity` at `now_ms` unless a model is recorded; returns the
    record. Raises `MalformedRecord` for a record that is not one."""
    reply = await scripts.load(redis, ModelRecord)(
        ModelRecord(
            record=keys.model(),
            name=identity.name,
            dim=identity.dim,
            fingerprint=identity.fingerprint,
            now_ms=now_ms,
        )
    )
    *values, recorded_now = reply
    missing = [field for field, value in zip(_FIELDS, values, strict=True) if value is None]
    if missing:
        raise MalformedRecord(f"{keys.model()} lacks the field {', '.join(missing)}")
    name, dim, fingerprint, recorded_ms = (value.decode() for value in values)
    try:
        return RecordedModel(
            ModelIdentity(name, int(dim), fingerprint), int(recorded_ms), bool(recorded_now)
        )
    except ValueError:
        raise MalformedRecord(
            f"{keys.model()} holds a dim or recorded_ms that is not an integer: "
            f"{dim!r}, {recorded_ms!r}"
        ) from None
