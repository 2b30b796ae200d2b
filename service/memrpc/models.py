"""The embedding models a process serves with, and which one each namespace
uses.

Without a move, one model: the default of the record (`store/model_record.py`),
its vectors in its field (`v` for the original model). While a move to
another model runs (`store/reembed.py`), a process started with both
(`--model-dir` the new one, `--previous-model-dir` the default) holds both:
a namespace uses the default until it has switched, then the next, for the
embedder of its queries and the vector field of its searches and dedup.
Whether a namespace has switched, and whether the move has ended (then
every namespace uses the next), is read at most every
`REEMBED_SWITCH_CACHE_S` per namespace: a stale answer only means one more
search of the old model's vectors, which stay until
`REEMBED_CLEANUP_DELAY_S` after the move ended. Text writes during a move
write the vectors of both models (`Model.others`), so that a memory written
after the job's step still has the new one; what a writer missed, the
job's next step finds and fills.

A process holding one model learns of a move other processes recorded (or
ended) when it reads the records, at most every `REEMBED_SWITCH_CACHE_S`:
from then on it refuses to write memories (`ModelMoved`), whose new vector
it could not write, and once the move has ended it refuses to search too,
as its model's vectors are on their way out. Restarted with both models, it
serves again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from memrpc.embedding import Embedder, ModelIdentity
from memrpc.limits import REEMBED_SWITCH_CACHE_S
from memrpc.store import keys
from memrpc.store.long_term import LongTermStore, OtherVector, Vector
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import ModelField
from memrpc.store.model_record import RecordedModel
from memrpc.store.redis_mux import RedisClient
from memrpc.store.reembed import switched

# Namespaces whose switch one process remembers.
MAX_ENTRIES = 10_000
# How a write embeds texts with an embedder (the API's translates a full queue).
Embed = Callable[[Sequence[str], Embedder], Awaitable[Vector]]


class ModelMoved(Exception):
    """This process holds one model, and the memories are moving (or have
    moved) to another: the message says which, and what to do."""

    def __init__(self, held: ModelIdentity, moving_to: str, *, ended: bool) -> None:
        state = "have moved" if ended else "are moving"
        super().__init__(
            f"the memories {state} to the embedding model {moving_to}, which this server "
            f"does not hold (it has {held}): retry, another server serves it; restart "
            "this one with --model-dir of that model and --previous-model-dir of its own"
        )


@dataclass(frozen=True)
class Model:
    """An embedding model and the field of its vectors."""

    embedder: Embedder
    field: ModelField


@dataclass(frozen=True)
class Choice:
    """The model a namespace uses (`model`) and the others whose vectors its
    text writes also write (at most one: the other model of a move)."""

    model: Model
    others: tuple[Model, ...] = ()

    async def write_vectors(
        self, texts: Sequence[str], embed: Embed | None = None
    ) -> tuple[Vector, list[OtherVector | None]]:
        """What a text write stores: the vectors of `texts` by the
        namespace's model, and by the other model of a move (None each
        without one); embedded by `embed` (None: each model's embedder
        itself)."""
        run = embed or _embed
        vectors = await run(texts, self.model.embedder)
        if not self.others or not texts:
            return vectors, [None] * len(texts)
        [other] = self.others
        return vectors, [OtherVector(other.field, v) for v in await run(texts, other.embedder)]


async def _embed(texts: Sequence[str], embedder: Embedder) -> Vector:
    """`texts` embedded by `embedder` itself."""
    return await embedder.embed(texts)


class Models:
    """The default model and, while a move runs, the next; which one each
    namespace uses."""

    def __init__(self, redis: RedisClient, default: Model, next: Model | None = None) -> None:
        self._redis = redis
        self.default = default
        self.next = next
        # Per namespace: whether it has switched, and when that was read.
        self._switched: OrderedDict[str, tuple[bool, float]] = OrderedDict()
        self._ended = False
        self._ended_read = -REEMBED_SWITCH_CACHE_S
        # For a process of one model: the model of a move it does not hold
        # (recorded by another process), whether that move has ended, and
        # when the records were read.
        self._elsewhere: tuple[str, bool] | None = None
        self._elsewhere_read = -REEMBED_SWITCH_CACHE_S

    def store(self, vector_type: VectorType) -> LongTermStore:
        """The long-term store of these models' Redis, vectors as
        `vector_type`, whose default field and dimension are the default
        model's."""
        default = self.default
        return LongTermStore(
            self._redis, dim=default.embedder.dim, vector_type=vector_type, field=default.field
        )

    @property
    def models(self) -> tuple[Model, ...]:
        """Every model this process holds."""
        return (self.default,) if self.next is None else (self.default, self.next)

    def background(self) -> Models:
        """The same models, embedding in their background lanes (the jobs')."""
        default = Model(self.default.embedder.background(), self.default.field)
        if self.next is None:
            return Models(self._redis, default)
        return Models(self._redis, default, Model(self.next.embedder.background(), self.next.field))

    async def choice(self, ns: str, *, writing: bool = False) -> Choice:
        """The model `ns` uses now, and the other whose vectors its text
        writes also write, for a read or (`writing`) a write of memories.
        Raises `ModelMoved` when this process holds one model and a move to
        another is recorded (for a write) or has ended."""
        if self.next is None:
            await self._check_elsewhere(writing=writing)
            return Choice(self.default)
        if await self._uses_next(ns):
            # Once the move has ended, the old vectors are on their way out.
            return Choice(self.next, () if self._ended else (self.default,))
        return Choice(self.default, (self.next,))

    async def _check_elsewhere(self, *, writing: bool) -> None:
        """Raises `ModelMoved` when another process recorded a move this one
        cannot take part in, for a write; or when a move ended, for any call
        (the records read at most every `REEMBED_SWITCH_CACHE_S`)."""
        now = time.monotonic()
        if now - self._elsewhere_read >= REEMBED_SWITCH_CACHE_S:
            default, moving_to = await asyncio.gather(
                self._redis.execute("HMGET", keys.model(), "fingerprint", "name"),
                self._redis.execute("HMGET", keys.model_next(), "fingerprint", "name"),
            )
            own = self.default.embedder.identity.fingerprint.encode()
            self._elsewhere = None
            for (fingerprint, name), ended in ((default, True), (moving_to, False)):
                if fingerprint is not None and fingerprint != own:
                    self._elsewhere = (
                        f"{(name or b'?').decode()} ({fingerprint[:12].decode()})",
                        ended,
                    )
                    break
            self._elsewhere_read = now
        if self._elsewhere is not None:
            moving_to, ended = self._elsewhere
            if writing or ended:
                raise ModelMoved(self.default.embedder.identity, moving_to, ended=ended)

    async def _uses_next(self, ns: str) -> bool:
        now = time.monotonic()
        assert self.next is not None
        fingerprint = self.next.embedder.identity.fingerprint
        if not self._ended and now - self._ended_read >= REEMBED_SWITCH_CACHE_S:
            recorded = await self._redis.execute("HGET", keys.model(), "fingerprint")
            self._ended = recorded is not None and recorded.decode() == fingerprint
            self._ended_read = now
        if self._ended:
            return True
        cached = self._switched.get(ns)
        # A namespace that switched stays switched for the rest of the move.
        if cached is not None and (cached[0] or now - cached[1] < REEMBED_SWITCH_CACHE_S):
            self._switched.move_to_end(ns)
            return cached[0]
        found = await switched(self._redis, ns, fingerprint)
        self._switched[ns] = (found, now)
        self._switched.move_to_end(ns)
        while len(self._switched) > MAX_ENTRIES:
            self._switched.popitem(last=False)
        return found


def from_record(redis: RedisClient, record: RecordedModel, embedders: Sequence[Embedder]) -> Models:
    """The models of a process holding `embedders` whose records
    (`model_check.check_model`, which accepted them) are `record`: the
    default's embedder with the default's field, and the next's while a
    move runs."""

    def held(identity: ModelIdentity) -> Embedder:
        return next(e for e in embedders if e.identity.same_vectors(identity))

    default = Model(held(record.identity), record.field)
    if record.next is None:
        return Models(redis, default)
    return Models(redis, default, Model(held(record.next.identity), record.next.field))
