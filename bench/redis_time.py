"""Redis time of the calls whose Redis work could grow with the data:
`ListSessions` over a listing index full of expired sessions, a
100-item `CreateMemories` (which the server runs as one `dedup_insert.lua`
call per `CREATE_BATCH` items, `store/long_term.py`), a `DeleteMemories` of
every memory they made (`delete_memories.lua`, per `DELETE_BATCH`), and
`ReceiveEvents`
of the most events a call may take (`events_receive.lua`), first as new
deliveries and then as redeliveries (the `XAUTOCLAIM` path). The target: no script
call costs Redis more than 5 ms, during which every other client of that
Redis waits.

```sh
.venv/bin/python -m bench.redis_time --expired 100k --out redis_time.json
.venv/bin/python -m bench.redis_time --address HOST:PORT --redis-url URL   # a running memrpc
```

Redis time is what `SLOWLOG` records for each of those script calls
(`EVALSHA`): the command's execution, without network or queueing. While
measuring, `slowlog-log-slower-than` is 0 (every command logged) and
`slowlog-max-len` large enough; both are set back afterwards. The entries
are told apart by the script's first key: the namespace's listing index,
its create-request key (`dedup_insert.lua`, whose first key it is with or
without a request id), or its memory key prefix (`delete_memories.lua`).

The expired sessions are entries written straight into the namespace's
listing ZSet with no session Hash behind them (what a session that expired
leaves behind until something prunes it), scored after the live sessions,
so a listing meets them first. Each `ListSessions` call (default page size)
goes on from the previous call's page token, as a client paging through
would; each examines at most the server's scan budget and removes the
expired entries it meets.

Standalone it starts its own memrpc with an embedded Redis (or measures the
one at `--address`); `bench.run` runs it as its `redis_time` section.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import redis.asyncio
from google.protobuf import duration_pb2

from bench.report import redis_time_lines
from bench.scale_data import parse_count, unit_vectors
from bench.servers import add_target_arguments, given_or_embedded_memrpc, parse_with_target
from bench.stats import percentile
from memrpc.limits import RECEIVE_EVENTS
from memrpc.store import keys
from memrpc.store.working import LIST_SCAN_BUDGET
from memrpc.v1 import (
    event_log_pb2,
    event_log_pb2_grpc,
    long_term_memory_pb2,
    long_term_memory_pb2_grpc,
    working_memory_pb2,
    working_memory_pb2_grpc,
)

TARGET_MS = 5.0
CREATE_ITEMS = 100
LIVE_SESSIONS = 10
# Index entries per ZADD while filling.
FILL_BATCH = 10_000
SLOWLOG_LEN = 10_000
CALL_TIMEOUT_S = 60.0
# The redelivery wait of the redelivered ReceiveEvents: the least allowed.
REDELIVER_AFTER_NS = 100_000_000


@dataclass(frozen=True)
class Sizes:
    """How much to load and how many calls to measure."""

    expired: int
    list_calls: int
    create_calls: int
    receive_calls: int = 2


FULL = Sizes(expired=100_000, list_calls=20, create_calls=10)
# Events appended for ReceiveEvents per AppendEvents, and their payload.
EVENT_BATCH = 100
EVENT_DATA = b"x" * 64


async def _fill_index(client: redis.asyncio.Redis, index: str, expired: int) -> None:
    """`expired` entries without a session, scored after every entry there."""
    newest = await client.zrange(index, 0, 0, desc=True, withscores=True)
    first = int(newest[0][1]) + 1 if newest else int(time.time() * 1000)
    for start in range(0, expired, FILL_BATCH):
        stop = min(start + FILL_BATCH, expired)
        await client.zadd(index, {f"expired-{i:08}": first + i for i in range(start, stop)})


async def _slowlog_config(client: redis.asyncio.Redis) -> dict[str, str]:
    names = ("slowlog-log-slower-than", "slowlog-max-len")
    return {name: (await client.config_get(name))[name] for name in names}


async def _redis_times_ms(client: redis.asyncio.Redis, first_key: str) -> list[float]:
    """The SLOWLOG durations (ms) of the EVALSHA calls whose first key starts
    with `first_key`, oldest first."""
    times = []
    for entry in reversed(await client.slowlog_get(SLOWLOG_LEN)):
        args = entry["command"].split(b" ", 4)
        if args[0].upper() == b"EVALSHA" and args[3].decode().startswith(first_key):
            times.append(entry["duration"] / 1000.0)
    return times


def _summary(times_ms: list[float]) -> dict[str, Any]:
    ordered = sorted(times_ms)
    return {
        "calls": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "max_ms": ordered[-1] if ordered else 0.0,
        "met": bool(ordered) and ordered[-1] <= TARGET_MS,
    }


async def measure(
    address: str, client: redis.asyncio.Redis, *, namespace: str, sizes: Sizes, seed: int = 1
) -> dict[str, Any]:
    """Loads `sizes.expired` expired sessions into `namespace`, then measures
    the Redis time of ListSessions paging through them and of 100-item
    CreateMemories calls (random vectors, the server's default dedup)."""
    index = keys.session_index(namespace)
    saved = await _slowlog_config(client)
    async with grpc.aio.insecure_channel(address) as channel:
        wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        for i in range(LIVE_SESSIONS):
            await wm.UpdateSession(
                working_memory_pb2.UpdateSessionRequest(
                    namespace=namespace,
                    thread_id=f"redis-time-live-{i}",
                    session=working_memory_pb2.SessionInput(goal="live"),
                ),
                timeout=CALL_TIMEOUT_S,
            )
        rng = np.random.default_rng(seed)
        run = os.urandom(4).hex()

        def create(call: int, count: int) -> long_term_memory_pb2.CreateMemoriesRequest:
            vectors = unit_vectors(rng, count)
            return long_term_memory_pb2.CreateMemoriesRequest(
                namespace=namespace,
                memories=[
                    long_term_memory_pb2.MemoryInput(
                        text=f"redis time {run} call {call} memory {i}",
                        embedding=vectors[i].tolist(),
                    )
                    for i in range(count)
                ],
            )

        # Both scripts loaded before measuring (a first EVALSHA fails with
        # NOSCRIPT, and would be logged too).
        await wm.ListSessions(
            working_memory_pb2.ListSessionsRequest(namespace=namespace), timeout=CALL_TIMEOUT_S
        )
        await ltm.CreateMemories(create(-1, 1), timeout=CALL_TIMEOUT_S)
        await _fill_index(client, index, sizes.expired)
        entries_before = await client.zcard(index)
        try:
            await client.config_set("slowlog-max-len", SLOWLOG_LEN)
            await client.config_set("slowlog-log-slower-than", 0)
            await client.slowlog_reset()
            token, listed, pages = "", 0, 0
            for _ in range(sizes.list_calls):
                page = await wm.ListSessions(
                    working_memory_pb2.ListSessionsRequest(namespace=namespace, page_token=token),
                    timeout=CALL_TIMEOUT_S,
                )
                pages += 1
                listed += len(page.sessions)
                token = page.next_page_token
                if not token:
                    break
            list_times = await _redis_times_ms(client, index)
            await client.slowlog_reset()
            for call in range(sizes.create_calls):
                await ltm.CreateMemories(create(call, CREATE_ITEMS), timeout=CALL_TIMEOUT_S)
            create_times = await _redis_times_ms(client, keys.memory_request(namespace, ""))
            await client.slowlog_reset()
            deleted = await ltm.DeleteMemories(
                long_term_memory_pb2.DeleteMemoriesRequest(
                    namespace=namespace,
                    filter=long_term_memory_pb2.MemoryFilter(
                        kinds=long_term_memory_pb2.MemoryKind.values()[1:]
                    ),
                ),
                timeout=CALL_TIMEOUT_S,
            )
            delete_times = await _redis_times_ms(client, keys.memory(namespace, ""))
            receive_times, receive_counts = await _receive_times_ms(
                channel, client, namespace=namespace, calls=sizes.receive_calls
            )
        finally:
            for name, value in saved.items():
                await client.config_set(name, value)
            await client.slowlog_reset()
    return {
        "target_ms": TARGET_MS,
        "expired_sessions": sizes.expired,
        "live_sessions": LIVE_SESSIONS,
        "scan_budget": LIST_SCAN_BUDGET,
        "ListSessions": _summary(list_times)
        | {
            "pages": pages,
            "sessions_listed": listed,
            "index_entries_before": entries_before,
            "index_entries_after": await client.zcard(index),
        },
        "dedup_insert": _summary(create_times)
        | {"create_calls": sizes.create_calls, "items_per_create": CREATE_ITEMS},
        "delete_memories": _summary(delete_times) | {"deleted": deleted.deleted_count},
        "events_receive": {
            kind: _summary(times)
            | {"max_events": int(RECEIVE_EVENTS.high), "events": receive_counts[kind]}
            for kind, times in receive_times.items()
        },
    }


async def _receive_times_ms(
    channel: grpc.aio.Channel, client: redis.asyncio.Redis, *, namespace: str, calls: int
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """The Redis times of `calls` ReceiveEvents of the most events a call
    may take, as new deliveries and then as redeliveries of the same
    events, and how many events each kind of call delivered in all."""
    events = event_log_pb2_grpc.EventLogStub(channel)
    most = int(RECEIVE_EVENTS.high)
    group = "redis-time"
    for _ in range(calls * most // EVENT_BATCH):
        await events.AppendEvents(
            event_log_pb2.AppendEventsRequest(
                namespace=namespace,
                thread_id="redis-time-events",
                events=[event_log_pb2.EventInput(type="bench", data=EVENT_DATA)] * EVENT_BATCH,
                max_len=calls * most,
            ),
            timeout=CALL_TIMEOUT_S,
        )
    await events.CreateConsumerGroup(
        event_log_pb2.CreateConsumerGroupRequest(
            namespace=namespace,
            group=group,
            start_position=event_log_pb2.GROUP_START_POSITION_EARLIEST,
        ),
        timeout=CALL_TIMEOUT_S,
    )
    times: dict[str, list[float]] = {}
    delivered = dict.fromkeys(("new", "redelivered"), 0)
    waits = {
        "new": duration_pb2.Duration(seconds=3600),
        "redelivered": duration_pb2.Duration(nanos=REDELIVER_AFTER_NS),
    }
    for kind, redeliver_after in waits.items():
        await client.slowlog_reset()
        for _ in range(calls):
            received = await events.ReceiveEvents(
                event_log_pb2.ReceiveEventsRequest(
                    namespace=namespace,
                    group=group,
                    consumer="bench",
                    max_events=most,
                    redeliver_after=redeliver_after,
                ),
                timeout=CALL_TIMEOUT_S,
            )
            delivered[kind] += len(received.events)
        times[kind] = await _redis_times_ms(client, keys.feed(namespace))
        await asyncio.sleep(REDELIVER_AFTER_NS / 1e9)
    return times, delivered


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    sizes = Sizes(args.expired, args.list_calls, args.create_calls)
    async with given_or_embedded_memrpc(args.address, args.redis_url) as target:
        return await measure(target.address, target.redis, namespace=args.namespace, sizes=sizes)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m bench.redis_time`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.redis_time",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--expired", type=parse_count, default=FULL.expired)
    parser.add_argument("--list-calls", type=int, default=FULL.list_calls)
    parser.add_argument("--create-calls", type=int, default=FULL.create_calls)
    parser.add_argument("--namespace", default=f"bench-redis-time-{os.urandom(4).hex()}")
    add_target_arguments(parser)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parse_with_target(parser, argv)
    results = asyncio.run(_main(args))
    print("\n".join(redis_time_lines(results)), file=sys.stderr)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
