"""Access tracking: the memories SearchMemories and GetContext return are
recorded in the server process (`access_recorder.py`) and written to them in
batches (`store/access.py`, `lua/memory_access.lua`). Each test writes with
the recorder's `flush` (or `close`) itself: no waiting for the background
writes, which may run as well and change nothing that is asserted."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc
import pytest
import redis.exceptions

from conftest import make_settings, running
from memrpc import metrics
from memrpc.access_recorder import AccessRecorder
from memrpc.embedding import BatchingEmbedder
from memrpc.server import MemrpcServer
from memrpc.store import keys, memory_document
from memrpc.store.access import Access, AccessStore
from memrpc.store.memory_index import INDEX, unrecalled_query
from memrpc.store.memory_indexes import MemoryIndexes
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import long_term_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2 as wm_pb
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from test_long_term_memory import DARK_MODE, PEANUTS, create, delete, get, item, unit_vectors

if TYPE_CHECKING:
    from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryAsyncStub
    from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryAsyncStub

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

# A recorder that writes only when a test says so.
NEVER_S = 3600.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def two_memories(ltm: LongTermMemoryAsyncStub, ns: str) -> list[pb.CreateMemoryResult]:
    """Two memories far apart: a search by the vector of one, with limit 1,
    returns it alone."""
    vectors = unit_vectors(2, seed=15)
    return await create(
        ltm,
        ns,
        item(PEANUTS, embedding=list(vectors[0])),
        item(DARK_MODE, embedding=list(vectors[1])),
    )


async def test_each_search_that_returns_a_memory_counts_once(
    ltm: LongTermMemoryAsyncStub,
    wm: WorkingMemoryAsyncStub,
    ns: str,
    memrpc_server: MemrpcServer,
) -> None:
    first, second = await two_memories(ltm, ns)
    vectors = unit_vectors(2, seed=15)
    one = pb.Vector(values=list(vectors[0]))
    before = now_ms()
    for _ in range(2):
        request = pb.SearchMemoriesRequest(namespace=ns, vector=one, limit=1, max_distance=2.0)
        [found] = (await ltm.SearchMemories(request)).matches
        assert found.memory.id == first.memory.id
    context = wm_pb.GetContextRequest(
        namespace=ns, thread_id="t", vector=one, limit=1, max_distance=2.0
    )
    assert [m.memory.id for m in (await wm.GetContext(context)).matches] == [first.memory.id]
    after = now_ms()
    await memrpc_server.access.flush()
    recalled = await get(ltm, ns, first.memory.id)
    assert recalled.access_count == 3
    assert before <= recalled.last_access_time.ToMilliseconds() <= after
    # Neither a new version nor a new update time.
    assert (recalled.version, recalled.update_time) == (1, first.memory.update_time)
    untouched = await get(ltm, ns, second.memory.id)
    assert (untouched.access_count, untouched.HasField("last_access_time")) == (0, False)


async def test_a_memory_deleted_before_the_write_is_not_recreated(
    ltm: LongTermMemoryAsyncStub, ns: str, memrpc_server: MemrpcServer, mux: RedisMux
) -> None:
    first, _ = await two_memories(ltm, ns)
    vectors = unit_vectors(2, seed=15)
    request = pb.SearchMemoriesRequest(
        namespace=ns, vector=pb.Vector(values=list(vectors[0])), limit=1, max_distance=2.0
    )
    await ltm.SearchMemories(request)
    await delete(ltm, ns, first.memory.id)
    await memrpc_server.access.flush()
    assert await mux.execute("EXISTS", keys.memory(ns, first.memory.id)) == 0
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get(ltm, ns, first.memory.id)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def recalled_ids(mux: RedisMux, ns: str, query: str) -> set[str]:
    search = [
        "FT.SEARCH",
        INDEX,
        f"@ns:{{{keys.tag_value(ns)}}} {query}",
        "NOCONTENT",
        "DIALECT",
        2,
    ]
    reply = await MemoryIndexes(mux).run(ns, search)
    return {key.decode().removeprefix(keys.memory(ns, "")) for key in reply[1:]}


async def test_the_recalled_index_field_moves_forward_only(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    first, second = await two_memories(ltm, ns)
    store = AccessStore(mux)
    later = first.memory.create_time.ToMilliseconds() + 60_000
    assert await recalled_ids(mux, ns, f"@recalled:[{later} +inf]") == set()
    assert await store.write(ns, [Access(first.memory.id, 2, later)]) == 1
    assert await recalled_ids(mux, ns, f"@recalled:[{later} +inf]") == {first.memory.id}
    # What forgetting reads: the other memory was not recalled since.
    assert await recalled_ids(mux, ns, unrecalled_query(later)) == {second.memory.id}
    # An older access adds to the count and moves no time back.
    assert await store.write(ns, [Access(first.memory.id, 1, later - 1000)]) == 1
    recalled = await get(ltm, ns, first.memory.id)
    assert (recalled.access_count, recalled.last_access_time.ToMilliseconds()) == (3, later)
    assert await recalled_ids(mux, ns, f"@recalled:[{later} +inf]") == {first.memory.id}


async def test_a_document_from_before_access_counts_gets_them(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    first, _ = await two_memories(ltm, ns)
    key = keys.memory(ns, first.memory.id)
    doc = memory_document
    await mux.execute("HDEL", key, doc.ACCESS_COUNT, doc.LAST_ACCESS_MS, doc.RECALLED_MS)
    at = now_ms()
    assert await AccessStore(mux).write(ns, [Access(first.memory.id, 1, at)]) == 1
    stored = int(await mux.execute("HGET", key, doc.RECALLED_MS))
    recalled = await get(ltm, ns, first.memory.id)
    assert (recalled.access_count, recalled.last_access_time.ToMilliseconds(), stored) == (
        1,
        at,
        at,
    )


class CountingStore(AccessStore):
    """The real store, keeping the batches it was asked to write; its first
    `failures` writes fail as if Redis were unreachable."""

    def __init__(self, redis: RedisMux, failures: int = 0) -> None:
        super().__init__(redis)
        self.batches: list[tuple[str, list[str]]] = []
        self._failures = failures

    async def write(self, ns: str, accesses: Sequence[Access]) -> int:
        if self._failures:
            self._failures -= 1
            raise redis.exceptions.ConnectionError("Redis unreachable (injected)")
        self.batches.append((ns, [access.memory_id for access in accesses]))
        return await super().write(ns, accesses)


async def memory_ids(ltm: LongTermMemoryAsyncStub, ns: str, count: int) -> list[str]:
    results = await create(
        ltm,
        ns,
        *(
            item(f"memory {i}", embedding=list(vector))
            for i, vector in enumerate(unit_vectors(count, seed=count))
        ),
    )
    return [result.memory.id for result in results]


async def test_the_batch_and_pending_caps_hold(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    other_ns = f"{ns}-other"
    ids = await memory_ids(ltm, ns, 5)
    [other] = await memory_ids(ltm, other_ns, 1)
    store = CountingStore(mux)
    recorder = AccessRecorder(store, interval_s=NEVER_S, batch=2, max_pending=4)
    metrics.enable()
    try:
        dropped = metrics.ACCESSES_DROPPED._value.get()
        recorded = metrics.ACCESSES_RECORDED._value.get()
        recorder.record(ns, ids[:3])
        recorder.record(ns, ids[:3])  # the same memories: merged, none dropped
        recorder.record(ns, ids[3:])  # one fits, one is dropped
        recorder.record(other_ns, [other])  # dropped too
        assert recorder.pending == 4
        assert metrics.ACCESSES_DROPPED._value.get() - dropped == 2
        assert metrics.ACCESSES_RECORDED._value.get() - recorded == 7
    finally:
        metrics.disable()
    assert await recorder.flush() == 4
    assert store.batches == [(ns, ids[:2]), (ns, ids[2:4])]
    counts = [(await get(ltm, ns, memory_id)).access_count for memory_id in ids]
    assert counts == [2, 2, 2, 1, 0]
    assert (await get(ltm, other_ns, other)).access_count == 0
    assert (recorder.pending, await recorder.flush()) == (0, 0)


async def test_batches_are_of_one_namespace(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    other_ns = f"{ns}-other"
    ids = await memory_ids(ltm, ns, 1)
    other = await memory_ids(ltm, other_ns, 1)
    store = CountingStore(mux)
    recorder = AccessRecorder(store, interval_s=NEVER_S, batch=10)
    recorder.record(ns, ids)
    recorder.record(other_ns, other)
    # As the background writes do: resting after each batch.
    assert await recorder.flush(rest=True) == 2
    assert store.batches == [(ns, ids), (other_ns, other)]


async def test_a_failed_write_is_kept_for_the_next(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    ids = await memory_ids(ltm, ns, 2)
    recorder = AccessRecorder(CountingStore(mux, failures=1), interval_s=NEVER_S)
    recorder.record(ns, ids)
    with pytest.raises(redis.exceptions.ConnectionError):
        await recorder.flush()
    recorder.record(ns, ids[:1])  # merged with the accesses put back
    assert recorder.pending == 2
    assert await recorder.flush() == 2
    assert [(await get(ltm, ns, memory_id)).access_count for memory_id in ids] == [2, 1]


async def test_close_writes_what_is_left(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    ids = await memory_ids(ltm, ns, 1)
    recorder = AccessRecorder(AccessStore(mux), interval_s=NEVER_S)
    recorder.start()
    recorder.record(ns, ids)
    await recorder.close(5.0)
    assert recorder.pending == 0
    assert (await get(ltm, ns, ids[0])).access_count == 1


async def test_a_stopping_server_writes_the_accesses_it_recorded(
    shared_url: str, embedder: BatchingEmbedder, ns: str, mux: RedisMux
) -> None:
    settings = make_settings(shared_url)
    async with (
        running(settings, embedder, grace=5.0) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        ltm = LongTermMemoryStub(channel)
        first, _ = await two_memories(ltm, ns)
        vector = pb.Vector(values=list(unit_vectors(2, seed=15)[0]))
        await ltm.SearchMemories(pb.SearchMemoriesRequest(namespace=ns, vector=vector, limit=1))
    key = keys.memory(ns, first.memory.id)
    assert await mux.execute("HGET", key, memory_document.ACCESS_COUNT) == b"1"
