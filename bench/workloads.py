"""memrpc's RPCs as benchmark operations, through the generated Python stubs
on grpc.aio, against data seeded first."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from google.protobuf import field_mask_pb2, struct_pb2

from bench.channels import ChannelPool
from bench.corpus import (
    DIM,
    NAMESPACE,
    Dataset,
    assistant_turn,
    memory_text,
    query_text,
    user_turn,
)
from bench.measure import Operation
from memrpc.v1 import (
    event_log_pb2,
    event_log_pb2_grpc,
    long_term_memory_pb2,
    long_term_memory_pb2_grpc,
    working_memory_pb2,
    working_memory_pb2_grpc,
)

# Search returns `SEARCH_LIMIT` matches: no distance cut-off, so that every
# search returns as many documents as the raw FT.SEARCH floor.
SEARCH_LIMIT = 10
SEARCH_MAX_DISTANCE = 2.0
WINDOW_TURNS = 20
EVENTS_PER_THREAD = 100
EVENT_THREADS = 8
LIST_PAGE = 20
# Texts of `SearchMemories(text, repeated)`: a small pool, so the server's
# embedding cache answers most of them.
REPEATED_QUERIES = 32
# Numbers of unique text queries start here, away from the dataset's queries.
UNIQUE_QUERY_BASE = 100_000
SEMANTIC = long_term_memory_pb2.MEMORY_KIND_SEMANTIC
T = TypeVar("T")


def pick(requests: Sequence[T], number: int) -> T:
    """The request of call `number`: the requests in turn."""
    return requests[number % len(requests)]


@dataclass(frozen=True)
class _Stubs:
    """The three services on one channel. Any: the generated stubs are typed
    as synchronous, but on a grpc.aio channel each call returns an awaitable."""

    wm: Any
    ltm: Any
    ev: Any


def _turn(role: str, content: str) -> working_memory_pb2.TurnInput:
    return working_memory_pb2.TurnInput(role=role, content=content)


def turn_pair(number: int) -> list[working_memory_pb2.TurnInput]:
    """A user turn and the assistant's reply, distinct for every `number`."""
    return [_turn("user", user_turn(number)), _turn("assistant", assistant_turn(number))]


def _event(number: int) -> event_log_pb2.EventInput:
    payload = struct_pb2.Struct()
    payload.update(
        {"tool": "search_flights", "step": number, "ok": True, "args": {"from": "LIS", "to": "BER"}}
    )
    return event_log_pb2.EventInput(type="agent.step", json=payload, attributes={"agent": "bench"})


def get_session_requests(data: Dataset) -> list[working_memory_pb2.GetSessionRequest]:
    """The GetSession requests of the measurements: one per seeded thread."""
    return [
        working_memory_pb2.GetSessionRequest(namespace=NAMESPACE, thread_id=t) for t in data.threads
    ]


def vector_search_requests(data: Dataset) -> list[long_term_memory_pb2.SearchMemoriesRequest]:
    """The SearchMemories(vector) requests: one per query vector."""
    return [
        long_term_memory_pb2.SearchMemoriesRequest(
            namespace=NAMESPACE,
            vector=long_term_memory_pb2.Vector(values=vector.tolist()),
            limit=SEARCH_LIMIT,
            max_distance=SEARCH_MAX_DISTANCE,
        )
        for vector in data.query_vectors
    ]


class MemrpcWorkload:
    """Seeds a memrpc server and builds one `Operation` per RPC."""

    def __init__(
        self, pool: ChannelPool, data: Dataset, *, seed: int = 7, unique_base: int = 0
    ) -> None:
        self._pool = pool
        self._stubs = [
            _Stubs(
                working_memory_pb2_grpc.WorkingMemoryStub(channel),
                long_term_memory_pb2_grpc.LongTermMemoryStub(channel),
                event_log_pb2_grpc.EventLogStub(channel),
            )
            for channel in pool.channels
        ]
        self._data = data
        self._rng = np.random.default_rng(seed)
        # Numbers of new texts, unique across every operation built here (give
        # workloads on the same Redis different bases).
        self._unique = itertools.count(unique_base)
        self.memory_ids: list[str] = []

    def _stub(self, number: int) -> _Stubs:
        return self._stubs[number % len(self._stubs)]

    async def seed(self) -> None:
        """Sessions with a full window, event logs, and the dataset's memories."""
        data, stub = self._data, self._stubs[0]
        for index, thread in enumerate(data.threads):
            session = working_memory_pb2.SessionInput(
                user_id=self._thread_user(index),
                goal="Plan a three-day trip to Berlin in March within a mid-range budget.",
                scratchpad="Notes: " + " ".join(assistant_turn(index).split()[:60]),
                metadata={"channel": "web", "locale": "en-GB", "plan": "pro"},
            )
            await stub.wm.UpdateSession(
                working_memory_pb2.UpdateSessionRequest(
                    namespace=NAMESPACE, thread_id=thread, session=session
                )
            )
            turns = [t for n in range(WINDOW_TURNS // 2) for t in turn_pair(index * 100 + n)]
            await stub.wm.AppendTurns(
                working_memory_pb2.AppendTurnsRequest(
                    namespace=NAMESPACE, thread_id=thread, turns=turns
                )
            )
        for thread in data.threads[:EVENT_THREADS]:
            await stub.ev.AppendEvents(
                event_log_pb2.AppendEventsRequest(
                    namespace=NAMESPACE,
                    thread_id=thread,
                    events=[_event(n) for n in range(EVENTS_PER_THREAD)],
                )
            )
        for start in range(0, len(data.memory_texts), 100):
            items = [
                long_term_memory_pb2.MemoryInput(
                    text=data.memory_texts[i],
                    user_id=data.memory_users[i],
                    kind=SEMANTIC,
                    topics=["preferences"],
                    embedding=data.memory_vectors[i].tolist(),
                )
                for i in range(start, min(start + 100, len(data.memory_texts)))
            ]
            reply = await stub.ltm.CreateMemories(
                long_term_memory_pb2.CreateMemoriesRequest(
                    namespace=NAMESPACE, memories=items, dedup_max_distance=0.0
                )
            )
            self.memory_ids += [result.memory.id for result in reply.results]

    def _thread_user(self, index: int) -> str:
        """The user of the session of `threads[index]`."""
        return self._data.memory_users[index % len(self._data.memory_users)]

    def operations(self) -> list[Operation]:
        """One operation per RPC measured, and the agent step: four RPCs
        (`turn`), and two (`step`: GetContext, then AppendTurns)."""
        data = self._data
        threads = data.threads
        get_session = get_session_requests(data)
        update_session = [
            working_memory_pb2.UpdateSessionRequest(
                namespace=NAMESPACE,
                thread_id=t,
                session=working_memory_pb2.SessionInput(scratchpad=f"Notes v{n}: " + "x" * 400),
                update_mask=field_mask_pb2.FieldMask(paths=["scratchpad"]),
            )
            for n, t in enumerate(threads)
        ]
        append_turns = [
            working_memory_pb2.AppendTurnsRequest(
                namespace=NAMESPACE, thread_id=t, turns=turn_pair(n), max_window_turns=WINDOW_TURNS
            )
            for n, t in enumerate(threads)
        ]
        vector_search = vector_search_requests(data)
        # GetContext's search is scoped to the session's user: the same
        # search as a SearchMemories(vector) filtered by that user.
        get_context = [
            working_memory_pb2.GetContextRequest(
                namespace=NAMESPACE,
                thread_id=t,
                vector=long_term_memory_pb2.Vector(values=vector.tolist()),
                limit=SEARCH_LIMIT,
                max_distance=SEARCH_MAX_DISTANCE,
            )
            for t, vector in zip(threads, itertools.cycle(data.query_vectors), strict=False)
        ]
        user_search = [
            long_term_memory_pb2.SearchMemoriesRequest(
                namespace=NAMESPACE,
                vector=request.vector,
                filter=long_term_memory_pb2.MemoryFilter(user_ids=[self._thread_user(n)]),
                limit=SEARCH_LIMIT,
                max_distance=SEARCH_MAX_DISTANCE,
            )
            for n, request in enumerate(get_context)
        ]
        duplicates = [
            long_term_memory_pb2.CreateMemoriesRequest(
                namespace=NAMESPACE,
                memories=[
                    long_term_memory_pb2.MemoryInput(
                        text=data.memory_texts[i],
                        user_id=data.memory_users[i],
                        kind=SEMANTIC,
                        topics=["preferences"],
                        embedding=data.memory_vectors[i].tolist(),
                    )
                ],
            )
            for i in range(min(len(data.memory_texts), 256))
        ]
        get_memory = [
            long_term_memory_pb2.GetMemoryRequest(namespace=NAMESPACE, memory_id=memory_id)
            for memory_id in self.memory_ids
        ]
        append_events = [
            event_log_pb2.AppendEventsRequest(namespace=NAMESPACE, thread_id=t, events=[_event(n)])
            for n, t in enumerate(threads)
        ]
        list_events = [
            event_log_pb2.ListEventsRequest(
                namespace=NAMESPACE, thread_id=t, descending=True, page_size=LIST_PAGE
            )
            for t in threads[:EVENT_THREADS]
        ]

        async def create_unique(number: int) -> object:
            return await self._stub(number).ltm.CreateMemories(self._unique_create())

        async def create_text(number: int) -> object:
            return await self._stub(number).ltm.CreateMemories(self._unique_create(embed=False))

        async def search_text(number: int) -> object:
            text = query_text(UNIQUE_QUERY_BASE + next(self._unique))
            return await self._stub(number).ltm.SearchMemories(_text_search(text))

        async def search_text_repeated(number: int) -> object:
            return await self._stub(number).ltm.SearchMemories(
                _text_search(query_text(number % REPEATED_QUERIES))
            )

        async def turn(number: int) -> object:
            stub = self._stub(number)
            await stub.wm.GetSession(pick(get_session, number))
            await stub.ltm.SearchMemories(pick(vector_search, number))
            await stub.wm.AppendTurns(pick(append_turns, number))
            return await stub.ltm.CreateMemories(self._unique_create())

        async def session_then_search(number: int) -> object:
            stub = self._stub(number)
            await stub.wm.GetSession(pick(get_session, number))
            return await stub.ltm.SearchMemories(pick(user_search, number))

        async def step(number: int) -> object:
            stub = self._stub(number)
            await stub.wm.GetContext(pick(get_context, number))
            return await stub.wm.AppendTurns(pick(append_turns, number))

        s = self._stub
        return [
            Operation("GetSession", lambda n: s(n).wm.GetSession(pick(get_session, n))),
            Operation("UpdateSession", lambda n: s(n).wm.UpdateSession(pick(update_session, n))),
            Operation("AppendTurns", lambda n: s(n).wm.AppendTurns(pick(append_turns, n))),
            Operation("CreateMemories(unique)", create_unique, note="1 memory, vector given"),
            Operation(
                "CreateMemories(text)",
                create_text,
                note="1 memory, the server embeds it; a near-duplicate of a stored one is a hit",
            ),
            Operation(
                "CreateMemories(duplicate)",
                lambda n: s(n).ltm.CreateMemories(pick(duplicates, n)),
                note="same text as a stored memory: a hit",
            ),
            Operation(
                "SearchMemories(vector)",
                lambda n: s(n).ltm.SearchMemories(pick(vector_search, n)),
                note=f"namespace filter, {SEARCH_LIMIT} matches",
            ),
            Operation(
                "GetContext",
                lambda n: s(n).wm.GetContext(pick(get_context, n)),
                note=f"session + vector search in the session user's memories, {SEARCH_LIMIT}"
                " matches",
            ),
            Operation(
                "GetSession+SearchMemories",
                session_then_search,
                note="what GetContext replaces: the two RPCs one after the other, the same search",
            ),
            Operation("SearchMemories(text)", search_text, note="every text new: no cache hit"),
            Operation(
                "SearchMemories(text,repeated)",
                search_text_repeated,
                note=f"{REPEATED_QUERIES} texts over and over: cache hits",
            ),
            Operation("GetMemory", lambda n: s(n).ltm.GetMemory(pick(get_memory, n))),
            Operation("AppendEvents", lambda n: s(n).ev.AppendEvents(pick(append_events, n))),
            Operation("ListEvents", lambda n: s(n).ev.ListEvents(pick(list_events, n))),
            Operation(
                "turn",
                turn,
                note="GetSession + SearchMemories(vector) + AppendTurns + CreateMemories",
            ),
            Operation(
                "step",
                step,
                note="the agent step in two RPCs: GetContext(vector) + AppendTurns",
            ),
        ]

    def _unique_create(self, *, embed: bool = True) -> long_term_memory_pb2.CreateMemoriesRequest:
        """A create of a memory nothing repeats: a new text with a random
        vector, or (`embed` False) without one, for the server to embed."""
        number = next(self._unique)
        item = long_term_memory_pb2.MemoryInput(
            text=f"{memory_text(number)} [new {number}]",
            user_id=self._data.memory_users[number % len(self._data.memory_users)],
            kind=SEMANTIC,
            topics=["preferences"],
        )
        if embed:
            vector = self._rng.standard_normal(DIM).astype(np.float32)
            item.embedding.extend((vector / np.linalg.norm(vector)).tolist())
        return long_term_memory_pb2.CreateMemoriesRequest(namespace=NAMESPACE, memories=[item])


def _text_search(text: str) -> long_term_memory_pb2.SearchMemoriesRequest:
    return long_term_memory_pb2.SearchMemoriesRequest(
        namespace=NAMESPACE, text=text, limit=SEARCH_LIMIT, max_distance=SEARCH_MAX_DISTANCE
    )
