"""Moving the memories to another embedding model (`store/reembed.py`,
`jobs/reembed.py`, `memrpc/models.py`, `model_check.py`).

Two second models: in process, MiniLM projected to another dimension
(`projected_model.py`: other vectors, another dimension), to see that after
a namespace's switch its searches and dedup use the new model's vectors and
field, and that whatever was written during the move ends with the new
vector; as real `memrpc serve` / `memrpc worker` processes, a copy of the
packaged model with one byte changed (another fingerprint), for the flags
and refusals end to end. Each test owns its Redis.
"""

from __future__ import annotations

import asyncio
import math
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import numpy as np
import numpy.typing as npt
import pytest

from conftest import make_settings, running
from memrpc import limits
from memrpc.config import SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder, ModelIdentity
from memrpc.embedding.identity import identify
from memrpc.embedding.model_files import model_files
from memrpc.jobs import reembed as reembed_job
from memrpc.jobs.reembed import ReembedRunner
from memrpc.jobs.runner import RunnerPolicy
from memrpc.model_check import MOVE_DOCS, check_model
from memrpc.models import Model, Models
from memrpc.store import keys
from memrpc.store import reembed as reembed_store
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE
from memrpc.store.memory_index import (
    INDEX,
    LEGACY_INDEX,
    ORIGINAL_FIELD,
    ModelField,
    model_field,
)
from memrpc.store.model_record import claim
from memrpc.store.redis_mux import RedisMux
from memrpc.store.reembed import Reembed, Target
from memrpc.v1 import long_term_memory_pb2 as pb
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from projected_model import ProjectedEmbedder
from schema2_fixture import load as load_schema2
from schema2_fixture import read as read_schema2
from support import MEMRPC, assert_reason, last_line, memrpc_exits
from test_model_identity import copy_model, flip_onnx_byte

Vector = npt.NDArray[np.float32]
VECTOR_TYPE = DEFAULT_VECTOR_TYPE
VECTOR_MODE = pb.RECALL_MODE_VECTOR
# Steps a test lets a namespace's move take at most.
MAX_STEPS = 500
# Seconds a test waits at most for what a process does in the background.
WITHIN_S = 60.0
TEXTS = [
    "Alice is allergic to peanuts",
    "Bob plays the cello in an orchestra",
    "The office moves to Berlin in May",
]


@pytest.fixture
def projected(embedder: BatchingEmbedder) -> ProjectedEmbedder:
    return ProjectedEmbedder(embedder)


@pytest.fixture
async def mux(own_redis: EmbeddedRedis) -> AsyncIterator[RedisMux]:
    """A client of the test's own Redis (not the shared one of conftest)."""
    client = RedisMux(own_redis.url)
    yield client
    await client.aclose()


def target(model: ProjectedEmbedder) -> Target:
    return Target(model.background(), model_field(model.identity.fingerprint))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Waits (bounded) until `check` holds; fails naming `what` otherwise."""
    deadline = time.monotonic() + WITHIN_S
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WITHIN_S} s: {what}")
        await asyncio.sleep(0.05)


async def memories(mux: RedisMux, ns: str) -> dict[str, dict[str, bytes]]:
    """Every memory Hash of `ns` by id, its fields by name."""
    found: dict[str, dict[str, bytes]] = {}
    cursor = b"0"
    while True:
        cursor, batch = await mux.execute(
            "SCAN", cursor, "MATCH", keys.memory(ns, "*"), "COUNT", 1000
        )
        for key in batch:
            values = await mux.execute("HGETALL", key)
            fields = {
                name.decode(): value for name, value in zip(values[::2], values[1::2], strict=False)
            }
            found[fields["id"].decode()] = fields
        if cursor == b"0":
            return found


def stored(blob: bytes) -> Vector:
    return np.frombuffer(blob, VECTOR_TYPE.dtype).astype(np.float32)


def cosine_distance(a: Vector, b: Vector) -> float:
    return 1.0 - float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# The time of a move's steps in the tests, until the switch.
START_MS = 1


async def move(reembed: Reembed, ns: str) -> list[int]:
    """Steps the move of `ns` until it is done, the clock jumping past
    `REEMBED_SETTLE_S` once it has switched; the keys each step found."""
    seen: list[int] = []
    now = START_MS
    for _ in range(MAX_STEPS):
        step = await reembed.step(ns, now)
        seen.append(step.seen)
        if step.state.done:
            return seen
        if step.state.switched:
            now = step.state.switched_ms + int(limits.REEMBED_SETTLE_S * 1000)
    pytest.fail(f"{ns} not moved in {MAX_STEPS} steps")


# -- Serving during a move ---------------------------------------------------------

QUERY = "who is allergic to peanuts"


class Client:
    """The calls the test makes in one namespace of a server."""

    def __init__(self, channel: grpc.aio.Channel, ns: str) -> None:
        self.ltm = LongTermMemoryStub(channel)
        self.ns = ns

    async def search(self, text: str) -> pb.MemoryMatch:
        """The nearest memory by vector, at any distance."""
        found = await self.ltm.SearchMemories(
            pb.SearchMemoriesRequest(
                namespace=self.ns, text=text, limit=1, max_distance=2.0, mode=VECTOR_MODE
            )
        )
        return found.matches[0]

    async def create(self, text: str, vector: Vector | None = None) -> pb.CreateMemoryResult:
        embedding = [] if vector is None else vector.tolist()
        item = pb.MemoryInput(text=text, user_id="kim", embedding=embedding)
        reply = await self.ltm.CreateMemories(
            pb.CreateMemoriesRequest(namespace=self.ns, memories=[item])
        )
        return reply.results[0]

    async def update_text(self, memory_id: str, text: str) -> pb.Memory:
        reply = await self.ltm.UpdateMemory(
            pb.UpdateMemoryRequest(
                namespace=self.ns,
                memory_id=memory_id,
                memory=pb.MemoryInput(text=text),
                update_mask={"paths": ["text"]},
            )
        )
        return reply.memory


async def before_the_switch(
    client: Client, mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder
) -> None:
    """Searches by the old model; text writes store both vectors, a
    client's vector only the namespace's model's."""
    new = model_field(projected.identity.fingerprint)
    [query, alice] = await embedder.embed([QUERY, TEXTS[0]])
    match = await client.search(QUERY)
    assert match.memory.text == TEXTS[0]
    assert match.distance == pytest.approx(cosine_distance(query, alice), abs=2e-3)
    tea = await client.create("Carol drinks green tea")
    [bike_vector] = await embedder.embed(["Dan rides a bike to work"])
    bike = await client.create("Dan rides a bike to work", bike_vector)
    held = await memories(mux, client.ns)
    bob = next(fields for fields in held.values() if fields["t"].startswith(b"Bob"))
    violin = await client.update_text(bob["id"].decode(), "Bob plays the violin in an orchestra")
    held = await memories(mux, client.ns)
    assert {"v", new.hash} <= held[tea.memory.id].keys()
    assert "v" in held[bike.memory.id]
    assert new.hash not in held[bike.memory.id]
    [violin_vector] = await projected.embed([violin.text])
    assert cosine_distance(stored(held[violin.id][new.hash]), violin_vector) < 1e-3


async def after_the_switch(
    client: Client, mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder
) -> None:
    """Searches and dedup by the new model (once the server's cache sees
    the switch); a client's vector of the new model's dimension."""
    new = model_field(projected.identity.fingerprint)
    [old_query, old_alice] = await embedder.embed([QUERY, TEXTS[0]])
    [query, alice, repeat_vector] = await projected.embed(
        [QUERY, TEXTS[0], "Alice is allergic to peanuts!"]
    )

    async def searches_new_model() -> bool:
        found = await client.search(QUERY)
        return abs(found.distance - cosine_distance(query, alice)) < 2e-3

    await eventually(searches_new_model, "searches by the new model")
    # ... whose distances differ from the old model's by more than that.
    old = cosine_distance(old_query, old_alice)
    assert not math.isclose(cosine_distance(query, alice), old, abs_tol=5e-3)
    repeat = await client.create("Alice is allergic to peanuts!")
    assert repeat.outcome == pb.CREATE_OUTCOME_DUPLICATE
    assert repeat.distance == pytest.approx(cosine_distance(repeat_vector, alice), abs=2e-3)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.create("Erin bakes bread", old_query)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    [bread] = await projected.embed(["Erin bakes bread"])
    erin = await client.create("Erin bakes bread", bread)
    assert set((await memories(mux, client.ns))[erin.memory.id]) & {"v", new.hash} == {new.hash}


async def test_a_move_serves_throughout_and_ends_with_every_memory_in_the_new_model(
    own_redis: EmbeddedRedis,
    mux: RedisMux,
    embedder: BatchingEmbedder,
    projected: ProjectedEmbedder,
    ns: str,
) -> None:
    settings = make_settings(own_redis.url)
    new = model_field(projected.identity.fingerprint)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        for text in TEXTS:
            await Client(channel, ns).create(text)
    async with (
        running(settings, projected, previous=embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        next_fingerprint = await mux.execute("HGET", keys.model_next(), "fingerprint")
        assert next_fingerprint == projected.identity.fingerprint.encode()
        assert new.index.encode() in str(await mux.execute("FT.INFO", INDEX)).encode()
        client = Client(channel, ns)
        await before_the_switch(client, mux, embedder, projected)
        reembed = Reembed(mux, target(projected), VECTOR_TYPE)
        for _ in range(MAX_STEPS):
            if (await reembed.step(ns, START_MS)).state.switched:
                break
        await after_the_switch(client, mux, embedder, projected)
        await move(reembed, ns)
        assert await reembed.finish(now_ms=1)
    # Every memory ends with its text's vector by the new model.
    held = await memories(mux, ns)
    assert len(held) == len(TEXTS) + 3
    texts = [fields["t"].decode() for fields in held.values()]
    for fields, vector in zip(held.values(), await projected.embed(texts), strict=True):
        assert cosine_distance(stored(fields[new.hash]), vector) < 1e-3
    record = await mux.execute("HMGET", keys.model(), "fingerprint", "field", "previous_field")
    assert record == [projected.identity.fingerprint.encode(), new.hash.encode(), b"v"]
    assert await mux.execute("EXISTS", keys.model_next()) == 0
    # The new model alone serves now, from its field.
    async with (
        running(settings, projected) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        assert (await Client(channel, ns).search(QUERY)).memory.text == TEXTS[0]


async def refusal(call: Callable[[], Awaitable[object]], what: str) -> grpc.aio.AioRpcError:
    """The error `call` fails with once it fails (bounded: a process reads
    the move's records at most every `REEMBED_SWITCH_CACHE_S`)."""
    failed: list[grpc.aio.AioRpcError] = []

    async def fails() -> bool:
        try:
            await call()
        except grpc.aio.AioRpcError as err:
            failed.append(err)
            return True
        return False

    await eventually(fails, what)
    return failed[-1]


async def test_a_server_of_the_old_model_alone_stops_writing_once_a_move_is_recorded(
    own_redis: EmbeddedRedis,
    mux: RedisMux,
    embedder: BatchingEmbedder,
    projected: ProjectedEmbedder,
) -> None:
    """A server started before a move, with the old model alone, learns of
    the move another server recorded: it refuses writes, whose new vectors
    it cannot make, with a retryable UNAVAILABLE (nothing written), still
    serves searches while the move runs, and refuses them too once it has
    ended; the server holding both models serves throughout."""
    ns = "straggler"
    settings = make_settings(own_redis.url)
    async with (
        running(settings, embedder) as old,
        grpc.aio.insecure_channel(f"127.0.0.1:{old.port}") as old_channel,
    ):
        client = Client(old_channel, ns)
        await client.create(TEXTS[0])
        async with (
            running(settings, projected, previous=embedder) as both,
            grpc.aio.insecure_channel(f"127.0.0.1:{both.port}") as both_channel,
        ):
            # Until it reads the records, it writes (the move's passes fill those).
            await refusal(lambda: client.create(TEXTS[1]), "writes refused")
            held = await memories(mux, ns)
            with pytest.raises(grpc.aio.AioRpcError) as moving:
                await client.create(TEXTS[2])
            assert_reason(moving.value, grpc.StatusCode.UNAVAILABLE, "MODEL_MOVING")
            assert "memories are moving to the embedding model" in str(moving.value.details())
            assert "--previous-model-dir" in str(moving.value.details())
            assert await memories(mux, ns) == held
            assert (await client.search(QUERY)).memory.text == TEXTS[0]
            assert (await Client(both_channel, ns).create(TEXTS[2])).outcome == (
                pb.CREATE_OUTCOME_CREATED
            )
        assert await Reembed(mux, target(projected), VECTOR_TYPE).finish(now_ms=1)
        ended = await refusal(lambda: client.search(QUERY), "searches refused")
        assert_reason(ended, grpc.StatusCode.UNAVAILABLE, "MODEL_MOVING")
        assert "memories have moved to the embedding model" in str(ended.details())


# -- The job -----------------------------------------------------------------------


async def write(
    mux: RedisMux, embedder: BatchingEmbedder, ns: str, count: int, *, first: int = 0
) -> None:
    """`count` memories of `ns`, by the original model (texts numbered from
    `first`)."""
    store = LongTermStore(mux, dim=embedder.dim, vector_type=VECTOR_TYPE)
    await store.ensure_index()
    numbers = range(first, first + count)
    texts = [f"memory {i}: the number {i * 7919 % 1000} of series {i % 13}" for i in numbers]
    vectors = await embedder.embed(texts)
    items = [NewMemory(text=t, embedding=v) for t, v in zip(texts, vectors, strict=True)]
    for at in range(0, count, 100):
        await store.create(ns, items[at : at + 100], max_distance=0)


async def start_move(
    mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder
) -> None:
    """Records the move from `embedder` to `projected` and adds its field;
    returns once Search has indexed the memories already there for it (in
    the background: until then a step finds only those it has scanned)."""
    record = await claim(mux, embedder.identity, now_ms=1, next=projected.identity)
    assert record.next is not None
    store = LongTermStore(mux, dim=embedder.dim, vector_type=VECTOR_TYPE)
    await store.ensure_model_field(record.next.field, projected.dim)

    async def indexed() -> bool:
        info = await mux.execute("FT.INFO", INDEX)
        return info[info.index(b"indexing") + 1] == 0

    await eventually(indexed, "the memories indexed for the new field")


async def test_a_crashed_move_resumes_where_the_index_says_and_fills_each_memory_once(
    mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder, ns: str
) -> None:
    await write(mux, embedder, ns, 300)
    await write(mux, embedder, "other", 50)  # not moved by a step of `ns`
    await start_move(mux, embedder, projected)
    first = Reembed(mux, target(projected), VECTOR_TYPE)
    filled = 0
    for _ in range(3):
        step = await first.step(ns, START_MS)
        assert step.seen == limits.REEMBED_BATCH
        filled += step.filled
    saved = await first.state(ns)
    assert saved.filled == filled == 3 * limits.REEMBED_BATCH
    assert not saved.switched
    # Another process (the first crashed) resumes: the index knows which
    # memories still lack the new vector.
    again = Reembed(mux, target(projected), VECTOR_TYPE)
    seen = await move(again, ns)
    done = await again.state(ns)
    assert done.switched
    assert done.done
    assert done.filled == 300  # each memory once: none twice, none missed
    assert sum(seen) == 300 - filled
    new = target(projected).field.hash
    assert all(new in fields for fields in (await memories(mux, ns)).values())
    assert not any(new in fields for fields in (await memories(mux, "other")).values())


async def test_a_namespace_of_thousands_moves_in_bounded_steps(
    mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder, ns: str
) -> None:
    count = 2000
    await write(mux, embedder, ns, count)
    await start_move(mux, embedder, projected)
    reembed = Reembed(mux, target(projected), VECTOR_TYPE)
    seen = await move(reembed, ns)
    assert (await reembed.state(ns)).filled == count
    # Full batches, then one step that switches and one that finds it done.
    assert seen == [limits.REEMBED_BATCH] * (count // limits.REEMBED_BATCH) + [
        count % limits.REEMBED_BATCH,
        0,
        0,
    ]


async def test_a_namespace_switches_only_once_search_has_indexed_the_new_field(
    mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder, ns: str
) -> None:
    """`FT.ALTER` indexes the memories already there in the background:
    until it is done, the memories it has not scanned do not count as
    lacking the new field, so an empty answer proves nothing."""
    await write(mux, embedder, ns, 40)
    await start_move(mux, embedder, projected)
    reembed = Reembed(mux, target(projected), VECTOR_TYPE)
    seen = await move(reembed, ns)
    assert sum(seen) == 40
    again = Reembed(mux, target(projected), VECTOR_TYPE)
    await mux.execute("HDEL", keys.reembed(ns), "switched", "done")

    async def indexing() -> bool:
        return True

    again._indexing = indexing  # type: ignore[method-assign]
    step = await again.step(ns, START_MS)
    assert (step.seen, step.state.switched) == (0, False)


async def test_the_switch_waits_for_writers_that_had_not_read_of_the_move(
    mux: RedisMux, embedder: BatchingEmbedder, projected: ProjectedEmbedder, ns: str
) -> None:
    """A memory written with the old model's vector alone after the switch
    (by a process that had not yet read of the move) is filled before the
    namespace is done."""
    await write(mux, embedder, ns, 10)
    await start_move(mux, embedder, projected)
    reembed = Reembed(mux, target(projected), VECTOR_TYPE)
    while not (step := await reembed.step(ns, START_MS)).state.switched:
        pass
    await write(mux, embedder, ns, 1, first=10)
    settle_ms = int(limits.REEMBED_SETTLE_S * 1000)
    early = await reembed.step(ns, step.state.switched_ms + settle_ms - 1)
    assert (early.seen, early.filled, early.state.done) == (1, 1, False)
    late = await reembed.step(ns, step.state.switched_ms + settle_ms)
    assert (late.seen, late.state.done) == (0, True)
    assert late.state.filled == 11


async def test_two_runners_move_every_namespace_then_clean_up_after_the_delay(
    mux: RedisMux,
    embedder: BatchingEmbedder,
    projected: ProjectedEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reembed_job, "PERIODIC_TICK_S", 0.05)
    monkeypatch.setattr(reembed_store, "REEMBED_SETTLE_S", 0.2)
    spaces = [f"rm{i}" for i in range(3)]
    for ns in spaces:
        await write(mux, embedder, ns, 60)
    await start_move(mux, embedder, projected)
    new = model_field(projected.identity.fingerprint)
    models = Models(mux, Model(embedder, ORIGINAL_FIELD), Model(projected, new))
    offset = [0]

    def clock() -> int:
        return time.time_ns() // 1_000_000 + offset[0]

    runners = [
        ReembedRunner(mux, models.background(), RunnerPolicy(30, 3), VECTOR_TYPE, now_ms=clock)
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    try:

        async def ended() -> bool:
            fingerprint = await mux.execute("HGET", keys.model(), "fingerprint")
            return fingerprint == projected.identity.fingerprint.encode()

        await eventually(ended, "the move ended")
        assert sum(runner.state.filled for runner in runners) == 3 * 60
        # The old vectors stay until the delay after the end has passed.
        for _ in range(5):
            await asyncio.sleep(0.05)
            for ns in spaces:
                assert all("v" in fields for fields in (await memories(mux, ns)).values())
        offset[0] = int(limits.REEMBED_CLEANUP_DELAY_S * 1000) + 1

        async def cleaned() -> bool:
            return all(runner.state.done for runner in runners)

        await eventually(cleaned, "both runners ended after the cleanup")
    finally:
        for runner in runners:
            await runner.stop()
        await asyncio.gather(*tasks)
    for ns in spaces:
        held = await memories(mux, ns)
        assert len(held) == 60
        assert all("v" not in fields and new.hash in fields for fields in held.values())
    assert await mux.execute("HGET", keys.model(), "previous_field") is None


# -- Starting: the flags and the refusals ----------------------------------------------


async def test_the_checks_of_a_move_refuse_the_wrong_models_in_one_line(
    own_redis: EmbeddedRedis,
    mux: RedisMux,
    embedder: BatchingEmbedder,
    projected: ProjectedEmbedder,
) -> None:
    settings = make_settings(own_redis.url)
    old, new = embedder.identity, projected.identity
    stranger = ModelIdentity("stranger", 384, "abcdef0123456789")
    await check_model(mux, old, settings, own_redis.url)
    # The new model alone, before the move: how to move.
    with pytest.raises(SettingsError) as refused:
        await check_model(mux, new, settings, own_redis.url)
    assert f"--previous-model-dir <the directory of {old.name}>" in str(refused.value)
    assert await mux.execute("EXISTS", keys.model_next()) == 0
    # Both: the move is recorded; a third model is refused as either.
    record = await check_model(mux, new, settings, own_redis.url, previous=old)
    assert record.next is not None
    assert record.next.identity == new
    for given, previous in ((stranger, old), (new, stranger)):
        with pytest.raises(SettingsError) as refused:
            await check_model(mux, given, settings, own_redis.url, previous=previous)
        assert f"moving to {new}" in str(refused.value)
        assert MOVE_DOCS in str(refused.value)
    # During the move, either model alone.
    with pytest.raises(SettingsError) as refused:
        await check_model(mux, old, settings, own_redis.url)
    assert f"are moving from it to {new}: start with --model-dir <the directory of " in str(
        refused.value
    )
    with pytest.raises(SettingsError) as refused:
        await check_model(mux, new, settings, own_redis.url)
    assert f"to which the memories in Redis at {own_redis.url} are moving from {old}" in str(
        refused.value
    )
    # After it: the new model alone, or still both (the previous unused).
    reembed = Reembed(mux, target(projected), VECTOR_TYPE)
    assert await reembed.finish(now_ms=1)
    assert (await check_model(mux, new, settings, own_redis.url)).next is None
    assert (await check_model(mux, new, settings, own_redis.url, previous=old)).next is None
    with pytest.raises(SettingsError):
        await check_model(mux, old, settings, own_redis.url)


async def test_a_move_waits_for_the_migration_of_schema_2(
    own_redis: EmbeddedRedis,
    mux: RedisMux,
    embedder: BatchingEmbedder,
    projected: ProjectedEmbedder,
) -> None:
    """The old index knows only the first model's field, and the job's
    steps see only converted memories: no move is recorded before the
    migration is done."""
    settings = make_settings(own_redis.url)
    await load_schema2(mux, read_schema2())
    with pytest.raises(SettingsError) as refused:
        await check_model(
            mux, projected.identity, settings, own_redis.url, previous=embedder.identity
        )
    assert "still migrating from storage schema 2" in str(refused.value)
    assert await mux.execute("EXISTS", keys.model_next()) == 0  # no move recorded
    await mux.execute("FT.DROPINDEX", LEGACY_INDEX)  # as the migration does when done
    record = await check_model(
        mux, projected.identity, settings, own_redis.url, previous=embedder.identity
    )
    assert record.next is not None


async def test_real_processes_move_the_memories_of_a_changed_model(
    own_redis: EmbeddedRedis, mux: RedisMux, embedder: BatchingEmbedder, tmp_path: Path, ns: str
) -> None:
    packaged = model_files(None)
    previous = copy_model(packaged, tmp_path / "minilm")
    changed = copy_model(packaged, tmp_path / "minilm-changed")
    flip_onnx_byte(changed)
    mine = identify(model_files(changed), 384)
    async with (
        running(make_settings(own_redis.url), embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        for text in TEXTS:
            await Client(channel, ns).create(text)
    start = ("--redis-url", own_redis.url, "--redis-start-timeout", "0")
    # The changed model alone: refused, saying how to move.
    done = await asyncio.to_thread(
        memrpc_exits, "serve", "--listen", "127.0.0.1:0", *start, "--model-dir", str(changed)
    )
    assert done.returncode == 2, done.stderr
    assert f"--model-dir {changed} --previous-model-dir <the directory of" in last_line(done.stderr)
    # Once a move to it is recorded, either model alone is refused.
    old = embedder.identity  # as recorded: the packaged model's name
    await claim(mux, identify(model_files(previous), 384), now_ms=1, next=mine)
    refusals = {
        ("serve", "--listen", "127.0.0.1:0", "--workers", "2", "--model-dir", str(previous)): (
            f"moving from it to {mine}: start with --model-dir <the directory of {mine.name}> "
            f"--previous-model-dir {previous} ({MOVE_DOCS})"
        ),
        ("worker", "--model-dir", str(changed)): (
            f"are moving from {old}: start with --model-dir {changed} --previous-model-dir "
            f"<the directory of {old.name}> ({MOVE_DOCS})"
        ),
    }
    for args, said in refusals.items():
        done = await asyncio.to_thread(memrpc_exits, *args, *start)
        assert done.returncode == 2, done.stderr
        assert last_line(done.stderr).endswith(f"{said} (see memrpc {args[0]} --help)")
        assert done.stderr.count("error:") == 1  # said once, not by each worker
    # A worker with both moves them, and ends the move.
    worker = subprocess.Popen(  # noqa: ASYNC220 (ended below, off the loop)
        [
            *MEMRPC,
            "worker",
            *start,
            "--model-dir",
            str(changed),
            "--previous-model-dir",
            str(previous),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        async def moved() -> bool:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            fingerprint = await mux.execute("HGET", keys.model(), "fingerprint")
            return fingerprint == mine.fingerprint.encode()

        await eventually(moved, "the worker moved the memories")
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(worker.communicate, timeout=WITHIN_S)
    assert worker.returncode == 0, err
    assert "are moving from" in err
    assert "every namespace moved to" in err
    field = model_field(mine.fingerprint).hash
    assert all(field in fields for fields in (await memories(mux, ns)).values())
    # The old model alone now: refused.
    done = await asyncio.to_thread(memrpc_exits, "worker", *start, "--model-dir", str(previous))
    assert done.returncode == 2, done.stderr
    assert f"were embedded by {mine}" in last_line(done.stderr)


def test_the_field_of_a_model_is_named_by_its_fingerprint() -> None:
    field = model_field("0123456789abcdef")
    assert field == ModelField("v_0123456789ab", "embedding_0123456789ab")
    assert ModelField("v", "embedding") == ORIGINAL_FIELD
