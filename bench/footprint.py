"""What a session and an event cost in Redis, for sizing a shard:
`python -m bench.footprint [--sessions N] [--events N]`.

One `memrpc serve` on its own embedded Redis; `used_memory` is read before
and after each load (`bench/redis_memory.py`):

- **a session**: `--sessions` threads, each given `TURNS` turns of
  `TURN_CHARS` characters by one `AppendTurns` (its working memory Hash with
  its window, the turns' events in its log and in the namespace feed, its
  listing entries);
- **an event**: `--events` events of `EVENT_BYTES` bytes of data, by
  `AppendEvents` calls of `EVENT_BATCH` over `EVENT_THREADS` threads (each
  in its thread's log and in the namespace feed).

A memory's cost is measured by `bench.memory_floor` and `bench.scale`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path

import grpc

from bench.redis_memory import used_memory
from bench.servers import start_memrpc, start_redis
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import event_log_pb2 as epb
from memrpc.v1 import working_memory_pb2 as wpb
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub

SESSIONS = 2000
EVENTS = 50_000
TURNS = 10
TURN_CHARS = 200
EVENT_BYTES = 100
EVENT_BATCH = 100
EVENT_THREADS = 50


async def per_session(channel: grpc.aio.Channel, mux: RedisMux, sessions: int) -> float:
    wm = WorkingMemoryStub(channel)
    before = await used_memory(mux)
    for number in range(sessions):
        turns = [
            wpb.TurnInput(
                role="user" if i % 2 == 0 else "assistant",
                content=f"{number} {i} ".ljust(TURN_CHARS, "x"),
            )
            for i in range(TURNS)
        ]
        request = wpb.AppendTurnsRequest(namespace="size", thread_id=f"s{number}", turns=turns)
        await wm.AppendTurns(request)
    return (await used_memory(mux) - before) / sessions


async def per_event(channel: grpc.aio.Channel, mux: RedisMux, events: int) -> float:
    log = EventLogStub(channel)
    before = await used_memory(mux)
    data = b"x" * EVENT_BYTES
    for first in range(0, events, EVENT_BATCH):
        batch = [epb.EventInput(type="note", data=data)] * min(EVENT_BATCH, events - first)
        thread = f"e{first // EVENT_BATCH % EVENT_THREADS}"
        await log.AppendEvents(
            epb.AppendEventsRequest(namespace="size", thread_id=thread, events=batch)
        )
    return (await used_memory(mux) - before) / events


async def bench(sessions: int, events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mrfoot-") as work_dir:
        work = Path(work_dir)
        redis = start_redis(work / "redis")
        server = None
        try:
            (work / "memrpc").mkdir()
            server = await start_memrpc(redis.url, work / "memrpc", log_level="WARNING")
            mux = RedisMux(redis.url)
            async with grpc.aio.insecure_channel(server.target) as channel:
                session = await per_session(channel, mux, sessions)
                event = await per_event(channel, mux, events)
            await mux.aclose()
            print(
                f"a session ({TURNS} turns of {TURN_CHARS} chars): {session:,.0f} B"
                f" ({sessions} sessions)"
            )
            print(f"an event ({EVENT_BYTES} B of data): {event:,.0f} B ({events} events)")
        finally:
            if server is not None:
                server.stop(10.0)
            redis.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS, help="sessions to write")
    parser.add_argument("--events", type=int, default=EVENTS, help="events to append")
    args = parser.parse_args(argv)
    asyncio.run(bench(args.sessions, args.events))


if __name__ == "__main__":
    main()
