"""Pinned memories: `MemoryInput.pinned` on CreateMemories and UpdateMemory
(mask path `pinned`), stored as `$.memory.pinned` and the `pinned` flag the
index filters on (`memory_index.unpinned_query`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from memrpc.store import keys, memory_document
from memrpc.store.memory_index import INDEX, MemoryFilter, filter_query, unpinned_query
from memrpc.store.memory_indexes import MemoryIndexes
from memrpc.store.redis_mux import RedisMux
from test_long_term_memory import DARK_MODE, DUPLICATE, PEANUTS, create, get, item, update

if TYPE_CHECKING:
    from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryAsyncStub

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

TROMBONE = "Alice plays the trombone."


async def unpinned_ids(mux: RedisMux, ns: str) -> set[str]:
    """The ids of the live memories of `ns` the index finds unpinned."""
    query = f"{filter_query(ns, 0, MemoryFilter())} {unpinned_query()}"
    search = ["FT.SEARCH", INDEX, query, "NOCONTENT", "LIMIT", 0, 100, "DIALECT", 2]
    reply = await MemoryIndexes(mux).run(ns, search)
    prefix = keys.memory(ns, "")
    return {key.decode().removeprefix(prefix) for key in reply[1:]}


async def flags(mux: RedisMux, ns: str, memory_id: str) -> list[str]:
    found = await mux.execute("HGET", keys.memory(ns, memory_id), memory_document.FLAGS)
    return memory_document.split(None if found is None else found.decode())


async def test_a_pinned_memory_is_created_pinned_and_indexed_so(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    pinned, plain = await create(ltm, ns, item(PEANUTS, pinned=True), item(DARK_MODE))
    assert (pinned.memory.pinned, plain.memory.pinned) == (True, False)
    assert (await get(ltm, ns, pinned.memory.id)).pinned
    assert await flags(mux, ns, pinned.memory.id) == ["pinned"]
    assert await flags(mux, ns, plain.memory.id) == []
    assert await unpinned_ids(mux, ns) == {plain.memory.id}


async def test_update_pins_and_unpins_as_a_content_change(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS, topics=["food"]))
    memory = created.memory
    pinned = await update(ltm, ns, memory.id, ["pinned"], expected_version=1, pinned=True)
    assert (pinned.pinned, pinned.version, pinned.text, list(pinned.topics)) == (
        True,
        2,
        PEANUTS,
        ["food"],
    )
    assert pinned.update_time.ToNanoseconds() >= memory.update_time.ToNanoseconds()
    assert await get(ltm, ns, memory.id) == pinned
    assert await unpinned_ids(mux, ns) == set()
    # Named with `pinned` false: unpinned.
    unpinned = await update(ltm, ns, memory.id, ["pinned"], expected_version=2)
    assert (unpinned.pinned, unpinned.version) == (False, 3)
    assert await unpinned_ids(mux, ns) == {memory.id}
    assert await flags(mux, ns, memory.id) == []


async def test_the_mask_rules_of_pinned(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [created] = await create(ltm, ns, item(PEANUTS))
    memory_id = created.memory.id
    # An empty mask pins when `pinned` is true ...
    assert (await update(ltm, ns, memory_id, [], pinned=True)).pinned
    # ... and leaves the pin alone when it is false (not populated).
    kept = await update(ltm, ns, memory_id, [], topics=["food"])
    assert (kept.pinned, list(kept.topics)) == (True, ["food"])
    # A mask naming other paths leaves it too.
    assert (await update(ltm, ns, memory_id, ["text"], text=TROMBONE)).pinned
    # `*` replaces it: unpinned unless set.
    replaced = await update(ltm, ns, memory_id, ["*"], text=TROMBONE)
    assert (replaced.pinned, replaced.version) == (False, 5)
    assert (await update(ltm, ns, memory_id, ["*"], text=TROMBONE, pinned=True)).pinned


async def test_a_pin_change_keeps_the_other_flags(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS))
    key = keys.memory(ns, created.memory.id)
    # As the consolidation job marks a superseded memory.
    await mux.execute("HSET", key, memory_document.FLAGS, "superseded")
    await update(ltm, ns, created.memory.id, ["pinned"], pinned=True)
    assert await flags(mux, ns, created.memory.id) == ["superseded", "pinned"]
    await update(ltm, ns, created.memory.id, ["pinned"], pinned=False)
    assert await flags(mux, ns, created.memory.id) == ["superseded"]


async def test_a_document_without_flags_gets_them_on_a_pin(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS))
    key = keys.memory(ns, created.memory.id)
    # A memory written before pins had neither the field nor the flags.
    await mux.execute("HDEL", key, memory_document.FLAGS, memory_document.PINNED)
    assert not (await get(ltm, ns, created.memory.id)).pinned
    assert (await update(ltm, ns, created.memory.id, ["pinned"], pinned=True)).pinned
    assert await flags(mux, ns, created.memory.id) == ["pinned"]
    assert await unpinned_ids(mux, ns) == set()


async def test_a_duplicate_of_a_pinned_memory_keeps_it_pinned(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS, pinned=True))
    [hit] = await create(ltm, ns, item(PEANUTS.upper()))
    assert (hit.memory.id, hit.memory.hit_count, hit.memory.pinned) == (created.memory.id, 2, True)
    assert hit.memory.version == 1
    assert await unpinned_ids(mux, ns) == set()


async def test_a_pinned_duplicate_pins_the_memory_it_repeats(
    ltm: LongTermMemoryAsyncStub, ns: str, mux: RedisMux
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS))
    [hit] = await create(ltm, ns, item(PEANUTS.upper(), pinned=True))
    assert (hit.outcome, hit.memory.id, hit.memory.hit_count) == (
        DUPLICATE,
        created.memory.id,
        2,
    )
    # Pinned as by UpdateMemory: a new version.
    assert (hit.memory.pinned, hit.memory.version) == (True, 2)
    assert await get(ltm, ns, created.memory.id) == hit.memory
    assert await unpinned_ids(mux, ns) == set()
    # A replay writes nothing, even after an unpin.
    [first] = await create(ltm, ns, item(DARK_MODE))
    pin = item(DARK_MODE, pinned=True)
    [dup] = await create(ltm, ns, pin, request_id="pin-replay")
    assert (dup.memory.id, dup.memory.pinned, dup.memory.version) == (first.memory.id, True, 2)
    await update(ltm, ns, first.memory.id, ["pinned"], pinned=False)
    [again] = await create(ltm, ns, pin, request_id="pin-replay")
    assert (again.memory.id, again.memory.pinned, again.memory.version) == (
        first.memory.id,
        False,
        3,
    )
