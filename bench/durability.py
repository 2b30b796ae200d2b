"""What `--durability replica` costs a write: two `memrpc serve` on one
primary with one replica (`tests/redis_replica.py`), one acknowledging
writes as the primary applies them (`local`), the other once the replica
holds them (`replica`, `store/replica_ack.py`), measured side by side.

```sh
.venv/bin/python -m bench.durability --calls 500
```

- **One at a time**: `AppendEvents` (one small event) and `CreateMemories`
  (one memory with its embedding given, so no model time), `--calls` each,
  the two servers' calls interleaved (which goes first alternates); p50 and
  p99 of each, and the ratio.
- **Concurrent**: `--concurrency` callers of `AppendEvents`, `--calls`
  calls in all, against each server in turn: calls per second, p50 and
  p99, and the `WAIT`s the primary ran per call (`INFO commandstats`): the
  callers share rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import redis.asyncio
from tests.redis_replica import replicated

from bench.measure import Call, compared_line, concurrently, interleaved, rate_line
from bench.scale_data import unit_vectors
from bench.servers import start_memrpc
from memrpc.v1 import event_log_pb2 as epb
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub

NAMESPACE = "durability"
MODES = ("local", "replica")


def calls_of(channel: grpc.aio.Channel, mode: str, vectors: np.ndarray) -> dict[str, Call]:
    """The measured calls on `channel`, each of a number (for distinct texts)."""
    log, ltm = EventLogStub(channel), LongTermMemoryStub(channel)

    def append(number: int) -> Awaitable[Any]:
        event = epb.EventInput(type="note", data=f"event {number}".encode())
        return log.AppendEvents(
            epb.AppendEventsRequest(namespace=NAMESPACE, thread_id=mode, events=[event])
        )

    def create(number: int) -> Awaitable[Any]:
        memory = lpb.MemoryInput(
            text=f"{mode} fact {number}", embedding=vectors[number % len(vectors)].tolist()
        )
        return ltm.CreateMemories(lpb.CreateMemoriesRequest(namespace=NAMESPACE, memories=[memory]))

    return {"AppendEvents": append, "CreateMemories": create}


async def waits(primary: redis.asyncio.Redis) -> int:
    """The `WAIT`s the primary ran so far."""
    stats = await primary.info("commandstats")
    return int(stats.get("cmdstat_wait", {}).get("calls", 0))


async def concurrent(
    call: Call, primary: redis.asyncio.Redis, count: int, concurrency: int
) -> dict[str, float]:
    """`count` calls by `concurrency` callers: their rate, latencies and
    the primary's `WAIT`s per call."""
    before = await waits(primary)
    found = await concurrently(call, count, concurrency)
    return {**found, "waits_per_call": (await waits(primary) - before) / count}


async def bench(count: int, concurrency: int) -> None:
    vectors = unit_vectors(np.random.default_rng(3), 1000)
    with tempfile.TemporaryDirectory(prefix="mrdur-") as work_dir:
        work = Path(work_dir)
        async with replicated(work) as pair:
            servers = {}
            try:
                for mode in MODES:
                    (work / f"memrpc-{mode}").mkdir()
                    servers[mode] = await start_memrpc(
                        pair.primary.url,
                        work / f"memrpc-{mode}",
                        log_level="WARNING",
                        extra_args=["--durability", mode],
                    )
                channels = {
                    mode: grpc.aio.insecure_channel(server.target)
                    for mode, server in servers.items()
                }
                calls = {mode: calls_of(channels[mode], mode, vectors) for mode in MODES}
                for mode in MODES:  # warm up: connections, scripts, the index
                    for call in calls[mode].values():
                        for number in range(20):
                            await call(count + number)
                print(f"one at a time ({count} calls each, interleaved; ms):")
                for rpc, by_mode in (await interleaved(calls, count)).items():
                    print(compared_line(rpc, by_mode))
                async with redis.asyncio.from_url(pair.primary.url) as primary:
                    print(f"AppendEvents, {concurrency} callers, {count} calls:")
                    for mode in MODES:
                        found = await concurrent(
                            calls[mode]["AppendEvents"], primary, count, concurrency
                        )
                        print(
                            f"{rate_line(mode, found)}, {found['waits_per_call']:.2f} WAIT per call"
                        )
                for channel in channels.values():
                    await channel.close()
            finally:
                for server in servers.values():
                    server.stop(10.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="calls of each kind and mode")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent callers")
    args = parser.parse_args(argv)
    asyncio.run(bench(args.calls, args.concurrency))


if __name__ == "__main__":
    main()
