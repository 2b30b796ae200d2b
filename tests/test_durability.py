"""No acknowledged write is lost when the embedded Redis is killed.

The embedded Redis appends every write to its AOF (`appendfsync everysec`)
and hands the AOF buffer to the kernel before it sends the replies, so a
SIGKILL of the Redis process (not a crash of the machine) loses nothing that
was acknowledged, even with no time left for an fsync. Here writers of
sessions, turns, memories and events run until Redis is SIGKILLed; the
supervisor restarts it from the AOF, and every write acknowledged before
the kill reads back equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

import grpc
import redis.exceptions
from google.protobuf import struct_pb2

from memrpc.embedding import BatchingEmbedder
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from test_faults import eventually, kill_redis, redis_pid, serving

DIM = 384


class Writers:
    """Concurrent writers of new sessions, turns, memories and events, each
    write to keys of its own; keeps what each acknowledged write returned."""

    def __init__(self, channel: grpc.aio.Channel, writers: int = 4) -> None:
        self.sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        self.memories = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        self.events = event_log_pb2_grpc.EventLogStub(channel)
        self.updated: dict[str, wm.Session] = {}
        self.appended_turns: dict[str, list[str]] = {}
        self.created: list[ltm.Memory] = []
        self.appended: dict[str, list[tuple[str, ev.EventInput]]] = {}
        self.failures: list[grpc.StatusCode] = []
        self._stopping = False
        self._random = random.Random(5)
        self._tasks = [asyncio.create_task(self._run(f"w{i}")) for i in range(writers)]

    @property
    def counts(self) -> list[int]:
        return [
            len(self.updated),
            len(self.appended_turns),
            len(self.created),
            sum(map(len, self.appended.values())),
        ]

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    async def _run(self, writer: str) -> None:
        i = 0
        while not self._stopping:
            i += 1
            try:
                await self._write_session(f"{writer}-s{i}")
                await self._append_turns(f"{writer}-t{i}")
                await self._create_memory(f"{writer} memory {i}")
                await self._append_events(f"{writer}-e", i)
            except grpc.aio.AioRpcError as err:
                self.failures.append(err.code())

    async def _write_session(self, thread: str) -> None:
        session = wm.SessionInput(
            user_id="u", goal=f"goal of {thread}", scratchpad="é" * 100, metadata={"k": thread}
        )
        reply = await self.sessions.UpdateSession(
            wm.UpdateSessionRequest(namespace="n", thread_id=thread, session=session), timeout=5
        )
        self.updated[thread] = reply.session

    async def _append_turns(self, thread: str) -> None:
        turns = [
            wm.TurnInput(role="user", content=f"q {thread}"),
            wm.TurnInput(role="bot", content="a"),
        ]
        await self.sessions.AppendTurns(
            wm.AppendTurnsRequest(namespace="n", thread_id=thread, turns=turns), timeout=5
        )
        self.appended_turns[thread] = [turn.content for turn in turns]

    async def _create_memory(self, text: str) -> None:
        vector = [self._random.gauss(0, 1) for _ in range(DIM)]
        item = ltm.MemoryInput(text=text, user_id="u", topics=["x"], embedding=vector)
        reply = await self.memories.CreateMemories(
            ltm.CreateMemoriesRequest(namespace="n", memories=[item], dedup_max_distance=0),
            timeout=5,
        )
        assert reply.results[0].outcome == ltm.CREATE_OUTCOME_CREATED
        self.created.append(reply.results[0].memory)

    async def _append_events(self, thread: str, i: int) -> None:
        payload = struct_pb2.Struct()
        payload.update({"i": i, "tags": ["a", None]})
        inputs = [
            ev.EventInput(type="blob", data=bytes([i % 256]) * 64, attributes={"i": str(i)}),
            ev.EventInput(type="doc", json=payload),
        ]
        reply = await self.events.AppendEvents(
            ev.AppendEventsRequest(namespace="n", thread_id=thread, events=inputs), timeout=5
        )
        self.appended.setdefault(thread, []).extend(zip(reply.event_ids, inputs, strict=True))


async def test_no_acknowledged_write_is_lost_when_redis_is_killed(
    tmp_path: Path, embedder: BatchingEmbedder
) -> None:
    async with serving(None, embedder, data_dir=tmp_path / "data") as (server, channel):
        writers = Writers(channel)
        try:
            await eventually(lambda: min(writers.counts) >= 40, "writes")
            old_pid = await kill_redis(server.redis_url)  # right after an ack, no fsync wait
        finally:
            await writers.stop()

        async def restarted() -> bool:
            with contextlib.suppress(redis.exceptions.RedisError, OSError):
                return await redis_pid(server.redis_url) != old_pid
            return False

        await eventually(restarted, "Redis restarted by the supervisor")
        await eventually(lambda: reads_again(writers), "reads succeed again")
        await check_everything_is_there(writers)
    assert set(writers.failures) <= {grpc.StatusCode.UNAVAILABLE}, writers.failures


async def reads_again(writers: Writers) -> bool:
    """Whether the server reads from the restarted Redis."""
    with contextlib.suppress(grpc.aio.AioRpcError):
        await writers.sessions.ListSessions(wm.ListSessionsRequest(namespace="n"), timeout=5)
        return True
    return False


async def check_everything_is_there(writers: Writers) -> None:
    """Every acknowledged write reads back equal."""
    for thread, written in writers.updated.items():
        reply = await writers.sessions.GetSession(
            wm.GetSessionRequest(namespace="n", thread_id=thread)
        )
        assert reply.session == written, thread
    for thread, contents in writers.appended_turns.items():
        reply = await writers.sessions.GetSession(
            wm.GetSessionRequest(namespace="n", thread_id=thread)
        )
        assert [turn.content for turn in reply.session.turns] == contents, thread
    for memory in writers.created:
        found = await writers.memories.GetMemory(
            ltm.GetMemoryRequest(namespace="n", memory_id=memory.id)
        )
        assert found.memory == memory
    for thread, appended in writers.appended.items():
        logged = await writers.events.ListEvents(
            ev.ListEventsRequest(namespace="n", thread_id=thread, page_size=1000)
        )
        by_id = {event.id: event for event in logged.events}
        for event_id, sent in appended:
            event = by_id[event_id]
            assert (event.type, event.data, event.json, dict(event.attributes)) == (
                sent.type,
                sent.data,
                sent.json,
                dict(sent.attributes),
            ), event_id
