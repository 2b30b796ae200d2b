"""The LangChain adapters run through `langchain-tests`' standard suites,
unmodified, against a live memrpc (a server on a thread of its own: the
suites' sync tests block the calling thread), each test with an empty
store, a namespace of its own: the vector store
(`memrpc.integrations.langchain_vectorstore`) through
`VectorStoreIntegrationTests`, the key-value store
(`memrpc.integrations.langchain_kvstore`) through `BaseStoreSyncTests` and
`BaseStoreAsyncTests`. Then what the suites do not cover: metadata
filters, scores, `from_texts`, large batches, JSON values."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import (
    BaseStoreAsyncTests,
    BaseStoreSyncTests,
    VectorStoreIntegrationTests,
)

from memrpc.integrations.langchain_kvstore import MemrpcKeyValueStore
from memrpc.integrations.langchain_vectorstore import MemrpcVectorStore
from support import INTEGRATIONS_DOC, doc_examples
from threaded_server import server_thread


@pytest.fixture(scope="module")
def target(shared_url: str) -> Iterator[str]:
    with server_thread(shared_url) as port:
        yield f"127.0.0.1:{port}"


def _store(target: str) -> MemrpcVectorStore:
    return MemrpcVectorStore(target, namespace=f"lc{uuid.uuid4().hex[:16]}")


class TestMemrpcVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, target: str) -> Iterator[MemrpcVectorStore]:  # type: ignore[override]
        store = _store(target)
        try:
            yield store
        finally:
            store.delete()
            store.close()


class TestMemrpcKeyValueStoreSync(BaseStoreSyncTests[bytes]):
    @pytest.fixture
    def kv_store(self, target: str) -> Iterator[MemrpcKeyValueStore]:  # type: ignore[override]
        store = MemrpcKeyValueStore(target, namespace=f"kv{uuid.uuid4().hex[:16]}")
        yield store
        store.close()

    @pytest.fixture
    def three_values(self) -> tuple[bytes, bytes, bytes]:  # type: ignore[override]
        return b"foo", b"bar", b"buzz"


class TestMemrpcKeyValueStoreAsync(BaseStoreAsyncTests[Any]):
    @pytest.fixture
    async def kv_store(self, target: str) -> AsyncIterator[MemrpcKeyValueStore]:  # type: ignore[override]
        store = MemrpcKeyValueStore(target, namespace=f"kv{uuid.uuid4().hex[:16]}")
        yield store
        await store.aclose()

    @pytest.fixture
    def three_values(self) -> tuple[Any, Any, Any]:  # type: ignore[override]
        return {"a": [1, 2.5, None]}, "bar", b"\x00\xff"


def test_key_value_store_keys_and_values(target: str) -> None:
    store = MemrpcKeyValueStore(target, namespace=f"kv{uuid.uuid4().hex[:16]}")
    other = MemrpcKeyValueStore(target, namespace=store.connection.namespace, topic="other")
    values = {"a/b:{c}": {"nested": [1, {"x": None}]}, "": "blank key", "big": "x" * 100_000}
    store.mset(list(values.items()))
    other.mset([("a/b:{c}", "the other store's")])
    assert store.mget(list(values)) == list(values.values())
    assert sorted(store.yield_keys()) == sorted(values)
    assert list(store.yield_keys(prefix="a/")) == ["a/b:{c}"]
    assert other.mget(["a/b:{c}", "big"]) == ["the other store's", None]
    with pytest.raises(ValueError, match="too large"):
        store.mset([("huge", "x" * 300_000)])
    store.close()
    other.close()


@pytest.fixture
def store(target: str) -> Iterator[MemrpcVectorStore]:
    memory = _store(target)
    yield memory
    memory.close()


DOCS = [
    Document(page_content="Alice lives in Oslo.", metadata={"user": "alice", "n": 1}),
    Document(page_content="Bob lives in Lisbon.", metadata={"user": "bob", "n": 2}),
    Document(page_content="Alice plays the cello.", metadata={"user": "alice", "tags": ["a"]}),
]


def test_metadata_filters_run_in_memrpc(store: MemrpcVectorStore) -> None:
    store.add_documents(DOCS, ids=["1", "2", "3"])
    alice = store.similarity_search("Where does she live?", k=3, filter={"user": "alice"})
    assert [doc.id for doc in alice] == ["1", "3"]
    assert [d.id for d in store.similarity_search("x", k=3, filter={"n": {"$in": [2, 3]}})] == ["2"]
    assert store.similarity_search("x", filter={"n": {"$eq": "1"}}) == []  # JSON: 1 is no "1"
    assert [d.id for d in store.similarity_search("x", filter={"tags": ["a"]})] == ["3"]
    with pytest.raises(ValueError, match="unsupported filter"):
        store.similarity_search("x", filter={"n": {"$gt": 1}})


def test_scores_are_cosine_distances(store: MemrpcVectorStore) -> None:
    store.add_documents(DOCS)
    scored = store.similarity_search_with_score("Alice lives in Oslo.", k=3)
    assert scored[0][0].page_content == "Alice lives in Oslo."
    assert scored[0][1] == pytest.approx(0.0, abs=1e-5)
    distances = [distance for _, distance in scored]
    assert distances == sorted(distances)
    relevance = store.similarity_search_with_relevance_scores("Alice lives in Oslo.", k=1)
    assert relevance[0][1] == pytest.approx(1.0, abs=1e-5)


def test_identical_texts_are_all_kept(store: MemrpcVectorStore) -> None:
    ids = store.add_texts(["Same text."] * 3)
    assert len(store.get_by_ids(ids)) == 3
    assert len(store.similarity_search("Same text.", k=10)) == 3


def test_from_texts_and_large_batches(target: str) -> None:
    texts = [f"Note number {i}." for i in range(150)]
    namespace = f"lc{uuid.uuid4().hex[:16]}"
    store = MemrpcVectorStore.from_texts(texts, None, target=target, namespace=namespace)
    assert len(store.similarity_search("Note number 7.", k=100)) == 100
    with pytest.raises(TypeError, match="embedding=None"):
        MemrpcVectorStore.from_texts(texts, object(), target=target, namespace=namespace)  # type: ignore[arg-type]
    assert store.delete() is True
    assert store.similarity_search("Note", k=1) == []
    store.close()


def test_stores_of_other_topics_do_not_see_each_other(target: str) -> None:
    namespace = f"lc{uuid.uuid4().hex[:16]}"
    first = MemrpcVectorStore(target, namespace=namespace, topic="first")
    second = MemrpcVectorStore(target, namespace=namespace, topic="second")
    first.add_texts(["Alice lives in Oslo."], ids=["x"])
    assert second.similarity_search("Oslo", k=1) == []
    assert second.get_by_ids(["x"]) == []
    second.add_texts(["Bob lives in Lisbon."], ids=["x"])  # the same id, apart
    assert [doc.page_content for doc in second.get_by_ids(["x"])] == ["Bob lives in Lisbon."]
    second.delete()
    assert [doc.page_content for doc in first.get_by_ids(["x"])] == ["Alice lives in Oslo."]


async def test_async_search_by_vector_of_the_server_model(target: str) -> None:
    store = _store(target)
    await store.aadd_texts(["Alice lives in Oslo."], ids=["x"])
    [doc] = await store.aget_by_ids(["x"])
    # A vector of the server's model: 384 values; with one document, any
    # direction finds it.
    found = await store.asimilarity_search_by_vector([1.0] + [0.0] * 383, k=1)
    assert [d.id for d in found] == [doc.id]
    await store.aclose()
    assert await asyncio.to_thread(store.similarity_search_by_vector, [0.0] * 383 + [1.0], 1) == [
        doc
    ]


@pytest.mark.parametrize("section", ["## LangGraph store", "## LangChain vector store"])
def test_the_docs_examples_run(target: str, section: str) -> None:
    """Each section's Python examples, run as written against a live memrpc
    (its address and a namespace of the test's own put for theirs)."""
    blocks = doc_examples(section)
    assert blocks
    namespace = f"doc{uuid.uuid4().hex[:16]}"
    for block in blocks:
        code = block.replace("127.0.0.1:50051", target).replace('"acme"', repr(namespace))
        exec(compile(code, f"{INTEGRATIONS_DOC.name} {section}", "exec"), {"__name__": "docs"})
