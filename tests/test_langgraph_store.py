"""The LangGraph store (`memrpc.integrations.langgraph_store`) against a
live memrpc: LangGraph ships no conformance suite for `BaseStore` on PyPI
(its own store tests are not packaged; `langgraph-checkpoint-conformance`
covers checkpointers only), so these tests check the `BaseStore` contract
as LangGraph's InMemoryStore behaves, sync (in a thread: the server runs
on the test's loop) and async, and a real graph across two processes."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import GetOp, ListNamespacesOp, MatchCondition, PutOp, SearchOp

from memrpc.integrations.langgraph_store import MemrpcStore, memory_id
from memrpc.server import MemrpcServer
from memrpc.v1 import long_term_memory_pb2 as pb

GRAPH = Path(__file__).with_name("langgraph_graph.py")
VALUE = {
    "text": "Alice prefers window seats on long flights ✈",
    "nested": {"list": [1, 2.5, -3e-7, None, True, "x"], "empty": {}, "big": 2**62},
    "unicode": "日本語 🙂 \u0000 \\ \" '",
    "float": 0.1 + 0.2,
}


@pytest.fixture
async def store(memrpc_server: MemrpcServer, ns: str) -> Any:
    memory = MemrpcStore(f"127.0.0.1:{memrpc_server.port}", namespace=ns)
    yield memory
    await memory.aclose()


async def test_values_round_trip_exactly_under_any_key(store: MemrpcStore) -> None:
    namespace = ("users", "alice", "prefs")
    keys = ["seat", "key with spaces/slashes:{braces}*", "ключ", "a" * 300]
    for key in keys:
        await store.aput(namespace, key, VALUE)
    for key in keys:
        item = await store.aget(namespace, key)
        assert item is not None
        assert (item.namespace, item.key, item.value) == (namespace, key, VALUE)
        assert json.dumps(item.value) == json.dumps(VALUE)
    assert await store.aget(namespace, "missing") is None
    assert await store.aget(("users", "bob", "prefs"), "seat") is None


async def test_put_replaces_never_merges(store: MemrpcStore, ltm: Any, ns: str) -> None:
    await store.aput(("docs",), "a", {"text": "The same sentence."})
    await store.aput(("docs",), "b", {"text": "The same sentence."})  # no dedup: two items
    first = await store.aget(("docs",), "a")
    await store.aput(("docs",), "a", {"text": "Another sentence.", "v": 2})
    again = await store.aget(("docs",), "a")
    assert first is not None
    assert again is not None
    assert again.value == {"text": "Another sentence.", "v": 2}
    assert again.created_at == first.created_at
    assert again.updated_at >= first.updated_at
    assert (await store.aget(("docs",), "b")).value == {"text": "The same sentence."}  # type: ignore[union-attr]
    listed = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns))
    assert sorted(m.id for m in listed.memories) == sorted(
        [memory_id(("docs",), "a"), memory_id(("docs",), "b")]
    )
    assert all(m.hit_count == 1 for m in listed.memories)
    assert all(m.pinned for m in listed.memories)  # never forgotten nor merged away


async def test_delete(store: MemrpcStore) -> None:
    await store.aput(("docs",), "a", {"x": 1})
    await store.adelete(("docs",), "a")
    assert await store.aget(("docs",), "a") is None
    await store.adelete(("docs",), "a")  # a missing item: nothing to do
    await store.aput(("docs",), "b", {"x": 1})
    await store.aput(("docs",), "b", None)  # type: ignore[arg-type]
    assert await store.aget(("docs",), "b") is None


async def test_search_by_prefix_filter_and_pages(store: MemrpcStore) -> None:
    for i in range(6):
        namespace = ("users", "alice" if i % 2 else "bob", "notes")
        await store.aput(namespace, f"n{i}", {"i": i, "tag": {"kind": "odd" if i % 2 else "even"}})
    alice = await store.asearch(("users", "alice"), limit=10)
    assert sorted(item.key for item in alice) == ["n1", "n3", "n5"]
    assert all(item.score is None for item in alice)
    assert [item.key for item in alice] == ["n5", "n3", "n1"]  # newest put first
    assert len(await store.asearch(("users",), limit=10)) == 6
    assert len(await store.asearch((), limit=10)) == 6
    assert await store.asearch(("users", "carol")) == []
    assert await store.asearch(("users", "al")) == []  # labels match whole
    wildcard = await store.asearch(("users", "*", "notes"), limit=10)
    assert len(wildcard) == 6
    high = await store.asearch(("users",), filter={"i": {"$gte": 3}}, limit=10)
    assert sorted(item.key for item in high) == ["n3", "n4", "n5"]
    nested = await store.asearch(("users",), filter={"tag": {"kind": "even"}, "i": {"$ne": 0}})
    assert sorted(item.key for item in nested) == ["n2", "n4"]
    assert [item.key for item in await store.asearch(("users",), filter={"i": 4})] == ["n4"]
    paged = [
        item.key
        for offset in range(0, 6, 2)
        for item in await store.asearch(("users",), limit=2, offset=offset)
    ]
    assert paged == [f"n{i}" for i in reversed(range(6))]


async def test_search_by_meaning(store: MemrpcStore) -> None:
    namespace = ("users", "alice", "facts")
    await store.aput(namespace, "diet", {"text": "Alice is a vegetarian and avoids meat."})
    await store.aput(namespace, "pet", {"text": "Alice has a cat named Miso."})
    await store.aput(namespace, "job", {"text": "Alice works as a nurse at night."})
    await store.aput(("users", "bob", "facts"), "diet", {"text": "Bob is a vegetarian."})
    found = await store.asearch(("users", "alice"), query="what food does she eat?", limit=3)
    assert next(item.key for item in found) == "diet"
    assert all(item.namespace == namespace for item in found)
    scores = [item.score for item in found]
    assert all(score is not None for score in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    only_pets = await store.asearch(
        ("users", "alice"), query="what food does she eat?", filter={"text": {"$ne": ""}}
    )
    assert len(only_pets) == 3
    # `index`: what is embedded; index=False embeds the key only.
    await store.aput(("misc",), "k", {"text": "Alice is a vegetarian."}, index=False)
    hidden = await store.asearch(("misc",), query="vegetarian food", limit=1)
    assert hidden[0].score is not None
    assert hidden[0].score < found[0].score


async def test_list_namespaces(store: MemrpcStore, ltm: Any, ns: str) -> None:
    await ltm.CreateMemories(  # not the store's: never listed
        pb.CreateMemoriesRequest(namespace=ns, memories=[pb.MemoryInput(text="Other memory.")])
    )
    for namespace in [
        ("users", "alice", "facts"),
        ("users", "alice", "prefs"),
        ("users", "bob", "facts"),
        ("teams", "red"),
        ("teams", "red", "facts"),
    ]:
        await store.aput(namespace, "k", {"x": 1})
    assert await store.alist_namespaces() == [
        ("teams", "red"),
        ("teams", "red", "facts"),
        ("users", "alice", "facts"),
        ("users", "alice", "prefs"),
        ("users", "bob", "facts"),
    ]
    assert await store.alist_namespaces(prefix=("users",), max_depth=2) == [
        ("users", "alice"),
        ("users", "bob"),
    ]
    assert await store.alist_namespaces(suffix=("facts",)) == [
        ("teams", "red", "facts"),
        ("users", "alice", "facts"),
        ("users", "bob", "facts"),
    ]
    assert await store.alist_namespaces(prefix=("users", "*"), suffix=("facts",)) == [
        ("users", "alice", "facts"),
        ("users", "bob", "facts"),
    ]
    assert await store.alist_namespaces(limit=2, offset=1) == [
        ("teams", "red", "facts"),
        ("users", "alice", "facts"),
    ]
    assert await store.alist_namespaces(max_depth=1) == [("teams",), ("users",)]


async def test_ttl_in_minutes_refreshed_on_read(store: MemrpcStore, ltm: Any, ns: str) -> None:
    await store.aput(("t",), "short", {"x": 1}, ttl=2)
    await store.aput(("t",), "forever", {"x": 2})
    get = pb.GetMemoryRequest(namespace=ns, memory_id=memory_id(("t",), "short"))
    first = (await ltm.GetMemory(get)).memory
    lifetime = first.expire_time.ToMilliseconds() - first.update_time.ToMilliseconds()
    assert lifetime == 2 * 60_000
    forever = pb.GetMemoryRequest(namespace=ns, memory_id=memory_id(("t",), "forever"))
    assert not (await ltm.GetMemory(forever)).memory.HasField("expire_time")
    before = await store.aget(("t",), "short", refresh_ttl=False)
    assert (await ltm.GetMemory(get)).memory.version == first.version  # not refreshed
    item = await store.aget(("t",), "short")  # refresh_on_read by default
    refreshed = (await ltm.GetMemory(get)).memory
    assert refreshed.version == first.version + 1
    assert refreshed.expire_time.ToMilliseconds() >= first.expire_time.ToMilliseconds()
    assert item is not None
    assert before is not None
    assert item.updated_at == before.updated_at  # a refresh is no update
    await store.asearch(("t",))
    assert (await ltm.GetMemory(get)).memory.version == first.version + 2


async def test_default_ttl(memrpc_server: MemrpcServer, ltm: Any, ns: str) -> None:
    store = MemrpcStore(f"127.0.0.1:{memrpc_server.port}", namespace=ns, ttl={"default_ttl": 0.5})
    await store.aput(("t",), "k", {"x": 1})
    memory = (
        await ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id=memory_id(("t",), "k")))
    ).memory
    assert memory.expire_time.ToMilliseconds() - memory.update_time.ToMilliseconds() == 30_000
    await store.aclose()


async def test_batch_reads_before_its_writes(store: MemrpcStore) -> None:
    await store.aput(("b",), "old", {"v": 0})
    results = await store.abatch(
        [
            PutOp(("b",), "new", {"v": 1}),
            GetOp(("b",), "new"),
            GetOp(("b",), "old"),
            PutOp(("b",), "new", {"v": 2}),
            PutOp(("b",), "old", None),
            SearchOp(("b",)),
            ListNamespacesOp(match_conditions=(MatchCondition("prefix", ("b",)),)),
        ]
    )
    assert results[0] is None
    assert results[1] is None
    assert results[2].value == {"v": 0}  # type: ignore[union-attr]
    assert [item.key for item in results[5]] == ["old"]  # type: ignore[union-attr]
    assert results[6] == [("b",)]
    assert (await store.aget(("b",), "new")).value == {"v": 2}  # type: ignore[union-attr]
    assert await store.aget(("b",), "old") is None


async def test_many_puts_in_one_batch(store: MemrpcStore) -> None:
    await store.abatch([PutOp(("many",), f"k{i}", {"i": i}) for i in range(130)])
    assert len(await store.asearch(("many",), limit=200)) == 130


async def test_the_sync_api(store: MemrpcStore) -> None:
    def sync() -> tuple[Any, ...]:
        store.put(("s", "x"), "k", {"text": "Sync values too."})
        item = store.get(("s", "x"), "k")
        found = store.search(("s",), query="values")
        namespaces = store.list_namespaces(prefix=("s",))
        store.delete(("s", "x"), "k")
        return item, found, namespaces, store.get(("s", "x"), "k")

    item, found, namespaces, gone = await asyncio.to_thread(sync)
    assert item.value == {"text": "Sync values too."}
    assert [f.key for f in found] == ["k"]
    assert namespaces == [("s", "x")]
    assert gone is None
    store.close()


async def test_a_graph_in_one_process_remembers_for_a_graph_in_another(
    memrpc_server: MemrpcServer, ns: str
) -> None:
    target = f"127.0.0.1:{memrpc_server.port}"
    facts = ["Alice is allergic to peanuts.", "Alice lives in Oslo.", "Alice plays the cello."]
    wrote = await _process("write", target, ns, "alice", *facts)
    assert wrote == {"written": 3}
    read = await _process("read", target, ns, "alice", "Which instrument does she play?")
    assert read["found"][0] == {
        "key": "fact 2",
        "value": {"text": "Alice plays the cello.", "n": 2},
    }
    assert read["namespaces"] == [["users", "alice", "facts"]]
    # A third, plain store sees the same items.
    store = MemrpcStore(target, namespace=ns)
    item = await store.aget(("users", "alice", "facts"), "fact 0")
    assert item is not None
    assert item.value == {"text": facts[0], "n": 0}
    assert item.created_at <= datetime.now(UTC)
    await store.aclose()


async def _process(*args: str) -> Any:
    """Runs tests/langgraph_graph.py with `args`; its JSON output."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(GRAPH),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert child.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])
