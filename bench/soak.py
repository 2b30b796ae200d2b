"""Soak: a steady request rate for minutes, zero errors, flat memory.

    .venv/bin/python -m bench.soak --minutes 30 --rate 200
    .venv/bin/python -m bench.soak --seconds 10 --rate 50 --sample-every 1 --out soak.json

Starts `memrpc serve` with its own embedded Redis in a temporary directory
(on loopback), then sends requests open-loop: one every 1/`rate` s, taking
turns through a mix of GetSession, AppendTurns, AppendEvents, ListEvents,
SearchMemories (text) and CreateMemories. The data stays bounded (a fixed
set of threads, windows of 20 turns, logs of ~200 events, a feed of ~10,000,
a fixed pool of memory texts whose repeats are duplicates), so once it is
full memory should stay flat. At most `--max-in-flight` calls run at once;
a tick that finds them all busy is skipped and counted (the server fell
behind the rate).

Every `--sample-every` s it samples the server's RSS (/proc) and Redis's
`used_memory`. The report gives each call's count by status, latency
percentiles, the samples, and each memory series' least-squares slope in
MiB per minute over the second half of the run (the first half warms the
caches and allocator pools up). The exit status is 1 when any call failed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio

from bench.report import machine_info
from bench.servers import ServerProcess, start_memrpc
from bench.stats import percentiles_ms
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm

NAMESPACE = "soak"
THREADS = 32
TEXTS = 16
EVENT_LOG_LEN = 200
FEED_LEN = 10_000
MIB = 1024 * 1024

DESCRIPTION = "Soak: a steady request rate for minutes, zero errors, flat memory."

Call = Callable[[int], Awaitable[Any]]
Sample = dict[str, float]


def calls(channel: grpc.aio.Channel) -> dict[str, Call]:
    """The request mix: one call per name, for request number `i`."""
    sessions: Any = working_memory_pb2_grpc.WorkingMemoryStub(channel)
    memories: Any = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    events: Any = event_log_pb2_grpc.EventLogStub(channel)

    def thread(i: int) -> str:
        return f"t{i % THREADS}"

    def text(i: int) -> str:
        return f"soak fact number {i % TEXTS}: the user prefers option {i % TEXTS}"

    return {
        "AppendTurns": lambda i: sessions.AppendTurns(
            wm.AppendTurnsRequest(
                namespace=NAMESPACE,
                thread_id=thread(i),
                turns=[wm.TurnInput(role="user", content=f"message {i} " + "x" * 200)],
            ),
            timeout=10,
        ),
        "GetSession": lambda i: sessions.GetSession(
            wm.GetSessionRequest(namespace=NAMESPACE, thread_id=thread(i)), timeout=10
        ),
        "AppendEvents": lambda i: events.AppendEvents(
            ev.AppendEventsRequest(
                namespace=NAMESPACE,
                thread_id=thread(i),
                events=[ev.EventInput(type="tick", data=b"x" * 256)],
                max_len=EVENT_LOG_LEN,
            ),
            timeout=10,
        ),
        "ListEvents": lambda i: events.ListEvents(
            ev.ListEventsRequest(
                namespace=NAMESPACE, thread_id=thread(i), descending=True, page_size=20
            ),
            timeout=10,
        ),
        "CreateMemories": lambda i: memories.CreateMemories(
            ltm.CreateMemoriesRequest(
                namespace=NAMESPACE, memories=[ltm.MemoryInput(text=text(i), user_id="u")]
            ),
            timeout=10,
        ),
        "SearchMemories": lambda i: memories.SearchMemories(
            ltm.SearchMemoriesRequest(namespace=NAMESPACE, text=text(i + 1)), timeout=10
        ),
    }


class Soak:
    """The open-loop sender and its tallies."""

    def __init__(self, channel: grpc.aio.Channel, *, max_in_flight: int) -> None:
        self._calls = list(calls(channel).items())
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self.statuses: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.skipped = 0

    async def prepare(self) -> None:
        """Creates every thread's session, so that GetSession always finds one."""
        append = dict(self._calls)["AppendTurns"]
        await asyncio.gather(*(append(i) for i in range(THREADS)))

    @property
    def errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s != "OK")

    async def run(self, seconds: float, rate: float) -> None:
        """Sends at `rate` calls per second for `seconds`, then waits for
        the calls in flight."""
        start = time.monotonic()
        for i in itertools.count():
            tick = start + i / rate
            if tick >= start + seconds:
                break
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            if self._slots.locked():
                self.skipped += 1
                continue
            await self._slots.acquire()
            name, call = self._calls[i % len(self._calls)]
            task = asyncio.create_task(self._one(name, call, i))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.gather(*self._tasks)

    async def _one(self, name: str, call: Call, i: int) -> None:
        began = time.perf_counter()
        try:
            await call(i)
            status = "OK"
        except grpc.aio.AioRpcError as err:
            status = err.code().name
        finally:
            self._slots.release()
        self.statuses[name][status] += 1
        self.latencies[name].append(time.perf_counter() - began)


def rss_bytes(pid: int) -> int:
    """A process's resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def sample_memory(
    server: ServerProcess, client: redis.asyncio.Redis, every: float, samples: list[Sample]
) -> None:
    """Appends a sample of server RSS and Redis used_memory every `every` s."""
    start = time.monotonic()
    while True:
        info = await client.info("memory")
        samples.append(
            {
                "t_s": time.monotonic() - start,
                "server_rss_mib": rss_bytes(server.server_pids()[0]) / MIB,
                "redis_used_mib": int(info["used_memory"]) / MIB,
            }
        )
        await asyncio.sleep(every)


def slope_per_minute(samples: Sequence[Sample], series: str) -> float | None:
    """The least-squares slope of a series over the second half of the
    samples, in its unit per minute; None with fewer than 2 samples there."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return None
    ts = [s["t_s"] for s in half]
    ys = [s[series] for s in half]
    t_mean, y_mean = sum(ts) / len(ts), sum(ys) / len(ys)
    spread = sum((t - t_mean) ** 2 for t in ts)
    if spread == 0:
        return None
    return 60.0 * sum((t - t_mean) * (y - y_mean) for t, y in zip(ts, ys, strict=True)) / spread


async def soak(
    seconds: float, rate: float, *, sample_every: float = 5.0, max_in_flight: int = 64
) -> dict[str, Any]:
    """Runs a soak against a memrpc of its own; returns the report."""
    with tempfile.TemporaryDirectory(prefix="memrpc-soak-", dir="/tmp") as work:
        server = await start_memrpc(
            None, Path(work), log_level="WARNING", extra_args=["--feed-max-len", str(FEED_LEN)]
        )
        client = redis.asyncio.from_url(server.redis_url)
        samples: list[Sample] = []
        try:
            async with grpc.aio.insecure_channel(server.target) as channel:
                sender = Soak(channel, max_in_flight=max_in_flight)
                await sender.prepare()
                sampler = asyncio.create_task(sample_memory(server, client, sample_every, samples))
                try:
                    await sender.run(seconds, rate)
                finally:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
            redis_info = await client.info("server")
        finally:
            await client.aclose()
            server.stop(60.0)
    return {
        "machine": machine_info(redis_info),
        "settings": {"seconds": seconds, "rate": rate, "sample_every_s": sample_every},
        "calls": sum(sum(counts.values()) for counts in sender.statuses.values()),
        "errors": sender.errors,
        "skipped_ticks": sender.skipped,
        "statuses": {name: dict(counts) for name, counts in sender.statuses.items()},
        "latency": {name: percentiles_ms(times) for name, times in sender.latencies.items()},
        "samples": samples,
        "slope_mib_per_min": {
            series: slope_per_minute(samples, series)
            for series in ("server_rss_mib", "redis_used_mib")
        },
    }


def summary(report: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    samples = report["samples"]
    lines = [
        f"{report['calls']} calls, {report['errors']} errors, "
        f"{report['skipped_ticks']} ticks skipped (server behind the rate)",
    ]
    for series, slope in report["slope_mib_per_min"].items():
        first, last = samples[0][series], samples[-1][series]
        rate = "n/a" if slope is None else f"{slope:+.3f} MiB/min"
        lines.append(f"{series}: {first:.1f} -> {last:.1f} MiB, slope (2nd half) {rate}")
    for name, latency in sorted(report["latency"].items()):
        lines.append(f"  {name:15} p50 {latency['p50_ms']:.2f} ms  p99 {latency['p99_ms']:.2f} ms")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    length.add_argument("--seconds", type=float, help="how long, in seconds")
    parser.add_argument("--rate", type=float, default=200.0, help="calls per second (200)")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds (5)")
    parser.add_argument("--max-in-flight", type=int, default=64, help="calls at once (64)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    report = asyncio.run(
        soak(seconds, args.rate, sample_every=args.sample_every, max_in_flight=args.max_in_flight)
    )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    print(summary(report))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
