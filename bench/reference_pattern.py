"""A peer: the redis.io agent-memory pattern written with plain redis-py.

Its own index and keys on the same Redis, the way the redis.io page lays the
pattern out: working memory is a Hash per thread (`HGETALL` to read; read the
window, append, trim, `HSET` + `EXPIRE` to write), long-term memories are
JSON documents with an embedding in an HNSW index recalled with one
`FT.SEARCH` (namespace TAG filter), deduplicated at write time by a KNN
search before `JSON.SET`, and each turn is recorded with `XADD MAXLEN ~`.
Round trips are pipelined where the pattern allows. Unlike memrpc it is not
atomic: a concurrent writer can lose turns or store a duplicate.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, cast

import numpy as np
import redis.asyncio
from redis.exceptions import ResponseError

from bench.corpus import DIM, NAMESPACE, Dataset, assistant_turn, memory_text, query_text, user_turn
from bench.measure import Operation
from bench.workloads import SEARCH_LIMIT, UNIQUE_QUERY_BASE, WINDOW_TURNS
from memrpc.embedding import OnnxModel

INDEX = "ref:idx"
MEMORY_PREFIX = "ref:mem:"
SESSION_TTL_S = 3600
EVENTS_MAX_LEN = 1000
DEDUP_DISTANCE = 0.2
# Numbers of the texts this pattern embeds start here (distinct from memrpc's).
TEXT_BASE = 2_000_000
_TAG_SPECIAL = re.compile(r"([,.<>{}\[\]\"':;!@#$%^&*()\-+=~| /\\])")


def _tag(value: str) -> str:
    """A value escaped for a TAG query."""
    return _TAG_SPECIAL.sub(r"\\\1", value)


def _session_key(thread: str) -> str:
    return f"ref:ses:{thread}"


def _events_key(thread: str) -> str:
    return f"ref:ev:{thread}"


def _turns(number: int) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": user_turn(number)},
        {"role": "assistant", "content": assistant_turn(number)},
    ]


def _rows(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """(key, returned fields) of each document of an FT.SEARCH reply (RESP3 or RESP2)."""
    if isinstance(reply, dict):
        return [(row[b"id"], dict(row.get(b"extra_attributes", {}))) for row in reply[b"results"]]
    return [
        (key, dict(zip(fields[::2], fields[1::2], strict=True)))
        for key, fields in zip(reply[1::2], reply[2::2], strict=True)
    ]


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


class ReferencePattern:
    """The pattern on `client`; `model` embeds texts for recall by text."""

    def __init__(self, client: redis.asyncio.Redis, model: OnnxModel, data: Dataset) -> None:
        self._redis = client
        self._model = model
        self._data = data
        self._rng = np.random.default_rng(17)
        self._new = 0

    async def _command(self, *args: Any) -> Any:
        return await self._redis.execute_command(*args)  # type: ignore[no-untyped-call]

    async def seed(self) -> None:
        """The index, one session per thread with a full window, and the memories."""
        try:
            await self._command(
                "FT.CREATE", INDEX, "ON", "JSON", "PREFIX", 1, MEMORY_PREFIX, "SCHEMA",
                "$.ns", "AS", "ns", "TAG", "$.user", "AS", "user", "TAG",
                "$.kind", "AS", "kind", "TAG", "$.created", "AS", "created", "NUMERIC",
                "$.embedding", "AS", "embedding", "VECTOR", "HNSW", 6,
                "TYPE", "FLOAT32", "DIM", DIM, "DISTANCE_METRIC", "COSINE",
            )  # fmt: skip
        except ResponseError as exc:
            if "already exists" not in str(exc).lower():
                raise
        data = self._data
        async with self._redis.pipeline(transaction=False) as pipe:
            for index, thread in enumerate(data.threads):
                turns = [t for n in range(WINDOW_TURNS // 2) for t in _turns(index * 100 + n)]
                pipe.hset(
                    _session_key(thread),
                    mapping={
                        "user": data.memory_users[index % len(data.memory_users)],
                        "goal": "Plan a three-day trip to Berlin in March within a mid-range "
                        "budget.",
                        "scratchpad": "Notes: " + " ".join(assistant_turn(index).split()[:60]),
                        "turns": json.dumps(turns),
                        "updated": time.time(),
                    },
                )
                pipe.expire(_session_key(thread), SESSION_TTL_S)
            await pipe.execute()
        for start in range(0, len(data.memory_texts), 100):
            async with self._redis.pipeline(transaction=False) as pipe:
                for i in range(start, min(start + 100, len(data.memory_texts))):
                    doc = self._document(
                        data.memory_texts[i], data.memory_users[i], data.memory_vectors[i]
                    )
                    pipe.json().set(f"{MEMORY_PREFIX}{i}", "$", doc)
                await pipe.execute()

    def _document(self, text: str, user: str, vector: np.ndarray) -> dict[str, Any]:
        return {
            "ns": NAMESPACE,
            "user": user,
            "kind": "semantic",
            "text": text,
            "created": time.time(),
            "hits": 1,
            "embedding": vector.tolist(),
        }

    async def get_session(self, thread: str) -> dict[str, Any]:
        """Working memory in one round trip, the window decoded."""
        fields = cast("dict[bytes, bytes]", await self._redis.hgetall(_session_key(thread)))
        session: dict[str, Any] = {k.decode(): v.decode() for k, v in fields.items()}
        session["turns"] = json.loads(session.get("turns", "[]"))
        return session

    async def append_turns(self, thread: str, turns: list[dict[str, str]]) -> None:
        """Read the window, append, trim, write it back; each turn to the log."""
        key = _session_key(thread)
        window = json.loads(await self._redis.hget(key, "turns") or b"[]")
        window = (window + turns)[-WINDOW_TURNS:]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={"turns": json.dumps(window), "updated": time.time()})
            pipe.expire(key, SESSION_TTL_S)
            for turn in turns:
                pipe.xadd(_events_key(thread), turn, maxlen=EVENTS_MAX_LEN, approximate=True)  # type: ignore[arg-type]
            await pipe.execute()

    async def recall(self, vector: np.ndarray) -> list[tuple[str, float]]:
        """The nearest memories of the namespace: one FT.SEARCH."""
        reply = await self._command(
            "FT.SEARCH", INDEX, f"(@ns:{{{_tag(NAMESPACE)}}})=>[KNN {SEARCH_LIMIT} "
            "@embedding $v AS score]",
            "PARAMS", 2, "v", _blob(vector), "SORTBY", "score",
            "RETURN", 3, "$.text", "$.user", "score", "LIMIT", 0, SEARCH_LIMIT, "DIALECT", 2,
        )  # fmt: skip
        return [(fields[b"$.text"].decode(), float(fields[b"score"])) for _, fields in _rows(reply)]

    async def recall_text(self, text: str) -> list[tuple[str, float]]:
        """Embed the text (one at a time, in a thread), then recall."""
        [vector] = await asyncio.to_thread(self._model.embed, [text])
        return await self.recall(vector)

    async def remember(self, text: str, user: str, vector: np.ndarray) -> bool:
        """Dedup by KNN in the user's scope, then JSON.SET; False for a duplicate."""
        reply = await self._command(
            "FT.SEARCH", INDEX,
            f"(@ns:{{{_tag(NAMESPACE)}}} @user:{{{_tag(user)}}} @kind:{{semantic}})"
            "=>[KNN 1 @embedding $v AS score]",
            "PARAMS", 2, "v", _blob(vector), "SORTBY", "score", "RETURN", 1, "score",
            "LIMIT", 0, 1, "DIALECT", 2,
        )  # fmt: skip
        nearest = _rows(reply)
        if nearest and float(nearest[0][1][b"score"]) <= DEDUP_DISTANCE:
            await self._redis.json().numincrby(nearest[0][0].decode(), "$.hits", 1)
            return False
        self._new += 1
        key = f"{MEMORY_PREFIX}new:{self._new}"
        await self._redis.json().set(key, "$", self._document(text, user, vector))
        return True

    async def append_event(self, thread: str, event: dict[str, Any]) -> object:
        """One event to the thread's log."""
        return await self._redis.xadd(
            _events_key(thread),
            {"type": "agent.step", "json": json.dumps(event)},
            maxlen=EVENTS_MAX_LEN,
            approximate=True,
        )

    def operations(self) -> list[Operation]:
        """The pattern's steps, named after the memrpc RPC each stands for."""
        data = self._data
        threads, queries = data.threads, data.query_vectors
        turns = [_turns(n) for n in range(len(threads))]

        def thread(number: int) -> str:
            return threads[number % len(threads)]

        def new_vector() -> np.ndarray:
            vector = self._rng.standard_normal(DIM).astype(np.float32)
            return vector / np.linalg.norm(vector)

        async def remember(number: int) -> object:
            text = f"{memory_text(number)} [ref {number}]"
            return await self.remember(
                text, data.memory_users[number % len(data.memory_users)], new_vector()
            )

        async def turn(number: int) -> object:
            await self.get_session(thread(number))
            await self.recall(queries[number % len(queries)])
            await self.append_turns(thread(number), turns[number % len(turns)])
            return await remember(number + 10_000_000)

        event = {"tool": "search_flights", "ok": True, "args": {"from": "LIS", "to": "BER"}}
        return [
            Operation("GetSession", lambda n: self.get_session(thread(n)), note="HGETALL"),
            Operation(
                "AppendTurns",
                lambda n: self.append_turns(thread(n), turns[n % len(turns)]),
                note="HGET window; HSET+EXPIRE+XADD pipelined",
            ),
            Operation("CreateMemories(unique)", remember, note="KNN dedup search, then JSON.SET"),
            Operation(
                "SearchMemories(vector)",
                lambda n: self.recall(queries[n % len(queries)]),
                note="FT.SEARCH KNN, namespace filter",
            ),
            Operation(
                "SearchMemories(text)",
                lambda n: self.recall_text(query_text(UNIQUE_QUERY_BASE + TEXT_BASE + n)),
                note="embed in a thread, one text per request; FT.SEARCH",
            ),
            Operation("AppendEvents", lambda n: self.append_event(thread(n), event), note="XADD"),
            Operation("turn", turn, note="HGETALL + FT.SEARCH + window write + dedup insert"),
        ]
