"""A LangChain `VectorStore` on memrpc long-term memory (extra `langchain`).

    from memrpc.integrations.langchain_vectorstore import MemrpcVectorStore

    store = MemrpcVectorStore("127.0.0.1:50051", namespace="acme")
    store.add_documents([Document(page_content="Alice lives in Oslo.")], ids=["alice-city"])
    store.similarity_search("Where does Alice live?", k=1)

memrpc embeds the texts itself (its server's model): the store takes no
`Embeddings`. Each document is one memory of the namespace, under a
client-chosen id (`lc-` and a digest of the store's topic and the
document's id, which may hold any character), written with dedup off and
replace on: documents with the same text are all kept, and adding a
document with an id already stored replaces it. The memory holds:

| where                | what                                                     |
|----------------------|----------------------------------------------------------|
| `text`               | `page_content` (1 to 8,192 characters by default)        |
| `topics`             | the store's `topic` (`langchain`): only its memories     |
| `metadata["id"]`     | the document's id (a UUID when it had none)              |
| `metadata["m.<k>"]`  | the document's metadata value `k`, as JSON (up to 4,096  |
|                      | characters each, 63 keys)                                |

A `filter` on metadata (`{"k": value}`, `{"k": {"$eq": value}}` or
`{"k": {"$in": [values]}}`, several keys all matching) is done by memrpc,
on the JSON of the values. Searches rank by cosine distance (vector mode,
no distance threshold): `similarity_search_with_score` returns the
distance (0 identical, lower is nearer), and the relevance scores are
1 - distance.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Unpack

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from memrpc.integrations._calls import (
    KEEP_SUPERSEDED,
    PINNED,
    Connection,
    Plan,
    Settings,
    digest_id,
    dumps,
)
from memrpc.integrations._plans import delete_memory, get_memory, put_memories
from memrpc.v1 import long_term_memory_pb2 as ltm

# The default topic of the store's memories.
TOPIC = "langchain"
# The prefix of the store's memory ids.
ID_PREFIX = "lc"
# The metadata entries holding the document's id and its metadata.
_ID = "id"
_META = "m."


def memory_id(topic: str, document_id: str) -> str:
    """The memrpc id of the document `document_id` in the store of `topic`."""
    return digest_id(ID_PREFIX, topic, document_id)


class MemrpcVectorStore(VectorStore):
    """Documents as memrpc long-term memories of one memrpc `namespace`,
    tagged with `topic` (stores of other topics in the same namespace never
    see each other's documents). See the module's docstring."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        namespace: str,
        topic: str = TOPIC,
        **settings: Unpack[Settings],
    ) -> None:
        self.connection = Connection(target, namespace=namespace, **settings)
        self.topic = topic

    @property
    def embeddings(self) -> Embeddings | None:
        """None: memrpc embeds the texts with its server's model."""
        return None

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> MemrpcVectorStore:
        """A store (`kwargs`: the constructor's) holding `texts`. memrpc
        embeds them itself: `embedding` must be None."""
        _no_embeddings(embedding)
        store = cls(**kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> MemrpcVectorStore:
        """`from_texts`, asynchronously."""
        _no_embeddings(embedding)
        store = cls(**kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Stores the texts, replacing the documents of the same ids; the
        ids (a new UUID for each text without one)."""
        plan, given = self._add(list(texts), metadatas, ids)
        self.connection.run(plan)
        return given

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        plan, given = self._add(list(texts), metadatas, ids)
        await self.connection.arun(plan)
        return given

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents of `ids` that exist, in the order of `ids`."""
        return self.connection.run(self._get(ids))

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await self.connection.arun(self._get(ids))

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Deletes the documents of `ids` (missing ones ignored); None
        deletes every document of the store (its topic)."""
        return self.connection.run(self._delete(ids))

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        return await self.connection.arun(self._delete(ids))

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The `k` documents nearest `query` (1 to 100), among those
        `filter` keeps."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter)]

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        found = await self.asimilarity_search_with_score(query, k, filter)
        return [doc for doc, _ in found]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """`similarity_search` with each document's cosine distance to the
        query."""
        return self.connection.run(self._search(ltm.SearchMemoriesRequest(text=query), k, filter))

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        request = ltm.SearchMemoriesRequest(text=query)
        return await self.connection.arun(self._search(request, k, filter))

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The `k` documents nearest a vector of the server's model."""
        request = ltm.SearchMemoriesRequest(vector=ltm.Vector(values=embedding))
        return [doc for doc, _ in self.connection.run(self._search(request, k, filter))]

    async def asimilarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        request = ltm.SearchMemoriesRequest(vector=ltm.Vector(values=embedding))
        return [doc for doc, _ in await self.connection.arun(self._search(request, k, filter))]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return self._cosine_relevance_score_fn

    def close(self) -> None:
        self.connection.close()

    async def aclose(self) -> None:
        await self.connection.aclose()

    # -- Plans ---------------------------------------------------------------

    def _add(
        self,
        texts: list[str],
        metadatas: list[dict[str, Any]] | None,
        ids: Sequence[str | None] | None,
    ) -> tuple[Plan[None], list[str]]:
        """The plan writing `texts`, and their ids."""
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        given = [given or str(uuid.uuid4()) for given in (ids or [None] * len(texts))]
        # The last of a repeated id wins, as a put after a put would.
        last = {document_id: at for at, document_id in enumerate(given)}
        memories = [
            ltm.MemoryInput(
                pinned=PINNED,
                memory_id=memory_id(self.topic, document_id),
                text=texts[at],
                topics=[self.topic],
                metadata={_ID: document_id}
                | {
                    _META + key: dumps(value, canonical=True)
                    for key, value in (metadatas or [{}] * len(texts))[at].items()
                },
            )
            for document_id, at in last.items()
        ]
        return put_memories(self.connection.namespace, memories), given

    def _get(self, ids: Sequence[str]) -> Plan[list[Document]]:
        found = []
        for document_id in ids:
            memory_of = memory_id(self.topic, document_id)
            memory = yield from get_memory(self.connection.namespace, memory_of)
            if memory is not None and self.topic in memory.topics:
                found.append(_document(memory))
        return found

    def _delete(self, ids: list[str] | None) -> Plan[bool]:
        namespace = self.connection.namespace
        if ids is None:
            yield (
                "DeleteMemories",
                ltm.DeleteMemoriesRequest(
                    namespace=namespace,
                    filter=ltm.MemoryFilter(
                        include_superseded=KEEP_SUPERSEDED, topics=[self.topic]
                    ),
                ),
            )
            return True
        for document_id in ids:
            yield from delete_memory(namespace, memory_id(self.topic, document_id))
        return True

    def _search(
        self, request: ltm.SearchMemoriesRequest, k: int, flt: dict[str, Any] | None
    ) -> Plan[list[tuple[Document, float]]]:
        request.namespace = self.connection.namespace
        request.filter.CopyFrom(self._filter(flt))
        request.limit = k
        request.max_distance = 2.0  # every document: LangChain ranks, never thresholds
        request.mode = ltm.RECALL_MODE_VECTOR
        response = yield ("SearchMemories", request)
        return [(_document(match.memory), float(match.distance)) for match in response.matches]

    def _filter(self, flt: dict[str, Any] | None) -> ltm.MemoryFilter:
        """The memrpc filter of a LangChain metadata filter."""
        conditions = []
        for key, wanted in (flt or {}).items():
            if isinstance(wanted, dict):
                if set(wanted) == {"$eq"}:
                    values = [wanted["$eq"]]
                elif set(wanted) == {"$in"} and isinstance(wanted["$in"], list | tuple):
                    values = list(wanted["$in"])
                else:
                    raise ValueError(
                        f"unsupported filter on {key!r}: memrpc filters a value, "
                        "{'$eq': value} or {'$in': [values]}"
                    )
            else:
                values = [wanted]
            conditions.append(
                ltm.MetadataFilter(
                    key=_META + key, values=[dumps(v, canonical=True) for v in values]
                )
            )
        return ltm.MemoryFilter(
            include_superseded=KEEP_SUPERSEDED, topics=[self.topic], metadata=conditions
        )


def _no_embeddings(embedding: Embeddings | None) -> None:
    if embedding is not None:
        raise TypeError("memrpc embeds texts with its server's model: pass embedding=None")


def _document(memory: ltm.Memory) -> Document:
    metadata = {
        key.removeprefix(_META): json.loads(value)
        for key, value in memory.metadata.items()
        if key.startswith(_META)
    }
    return Document(id=memory.metadata[_ID], page_content=memory.text, metadata=metadata)
