"""Event tail delivery: append → receive latency with 1, 100 and 1000
concurrent TailEvents subscribers, and the server's CPU while they sit idle.

Starts `memrpc serve` (embedded Redis, a temporary data dir) unless given
`--address` and `--redis-url`. For each subscriber count, opens that many
TailEvents streams on one thread (spread over channels of at most 100
streams), then appends events one at a time, each carrying its send time
(CLOCK_MONOTONIC): the next is appended once every subscriber has received
the last, after a short gap. Latency is measured when the client's loop
reads the message, so with many subscribers it includes the client working
through 1000 messages; it runs in this one Python process.

With the largest count still subscribed, reads the CPU time of the server's
processes and of Redis from /proc/<pid>/stat over an idle window: a busy
poller would show there.

    .venv/bin/python -m bench.tail_latency --out tail.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio

from bench.report import machine_info
from bench.servers import (
    ServerProcess,
    add_target_arguments,
    given_or_embedded_memrpc,
    parse_with_target,
)
from bench.stats import percentiles_ms
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc

STREAMS_PER_CHANNEL = 100
CALL_TIMEOUT_S = 30.0
# How long every subscriber may take to receive one event before the run fails.
DELIVERY_TIMEOUT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Fanout:
    """Deliveries of the event in flight to `subscribers` streams."""

    subscribers: int
    ready: int = 0
    delivered: int = 0
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    all_delivered: asyncio.Event = field(default_factory=asyncio.Event)

    def check(self) -> None:
        """Raises if a stream has failed."""
        if self.errors:
            raise RuntimeError(f"{len(self.errors)} tails failed, first: {self.errors[0]}")


async def follow(call: Any, fanout: Fanout) -> None:
    """Reads one TailEvents stream until it is cancelled."""
    try:
        async for message in call:
            now = time.monotonic_ns()
            if message.HasField("event"):
                sent = int(message.event.attributes["sent_ns"])
                fanout.latencies_s.append((now - sent) / 1e9)
                fanout.delivered += 1
                if fanout.delivered == fanout.subscribers:
                    fanout.all_delivered.set()
            elif fanout.ready < fanout.subscribers:  # the first checkpoint
                fanout.ready += 1
                if fanout.ready == fanout.subscribers:
                    fanout.all_ready.set()
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.CANCELLED:
            fanout.errors.append(f"{exc.code().name}: {exc.details()}")
            fanout.all_ready.set()  # wake the appender: the run has failed
            fanout.all_delivered.set()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def server_cpu_seconds(server: ServerProcess | None) -> float:
    """CPU time of the server's gRPC processes so far (0 if not ours)."""
    return sum(map(cpu_seconds, server.server_pids())) if server is not None else 0.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_limit(pid: int) -> str:
    """The soft limit on open files of a process."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


async def measure(
    address: str,
    client: redis.asyncio.Redis,
    subscribers: int,
    *,
    events: int,
    warmup: int,
    gap_s: float,
    server: ServerProcess | None,
    idle_s: float,
) -> dict[str, Any]:
    """Latency of `events` appends to `subscribers` tails (and, when
    `idle_s` > 0, the CPU they cost while idle)."""
    ns, thread = f"tail-{os.urandom(4).hex()}", "the-thread"
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(address, options=options)
        for _ in range(math.ceil(subscribers / STREAMS_PER_CHANNEL))
    ]
    fanout = Fanout(subscribers)
    request = ev.TailEventsRequest(
        namespace=ns, cursors=[ev.ThreadCursor(thread_id=thread, after_event_id="")]
    )
    calls = [
        event_log_pb2_grpc.EventLogStub(channels[i // STREAMS_PER_CHANNEL]).TailEvents(request)
        for i in range(subscribers)
    ]
    readers = [asyncio.create_task(follow(call, fanout)) for call in calls]
    result: dict[str, Any] = {"subscribers": subscribers}
    try:
        await asyncio.wait_for(fanout.all_ready.wait(), DELIVERY_TIMEOUT_S)
        fanout.check()
        result["redis_connected_clients"] = (await client.info("clients"))["connected_clients"]
        if server is not None:
            pid = server.server_pids()[0]
            result["server_open_fds"] = open_fds(pid)
            result["server_fd_limit"] = fd_limit(pid)
        appender = event_log_pb2_grpc.EventLogStub(channels[0])
        append_s: list[float] = []
        last_s: list[float] = []
        server_cpu = server_cpu_seconds(server)
        client_cpu = time.process_time()
        for number in range(warmup + events):
            measured = len(fanout.latencies_s)
            append_time = await deliver(appender, ns, thread, fanout)
            if number < warmup:
                del fanout.latencies_s[measured:]
            else:
                append_s.append(append_time)
                last_s.append(max(fanout.latencies_s[measured:]))
            await asyncio.sleep(gap_s)
        result["server_cpu_ms_per_event"] = (
            (server_cpu_seconds(server) - server_cpu) * 1000 / (warmup + events)
        )
        result["client_cpu_ms_per_event"] = (
            (time.process_time() - client_cpu) * 1000 / (warmup + events)
        )
        result["receive"] = percentiles_ms(fanout.latencies_s)
        result["last_subscriber"] = percentiles_ms(last_s)
        result["append_call"] = percentiles_ms(append_s)
        if idle_s > 0 and server is not None:
            result["idle"] = await idle_cpu(server, idle_s)
    finally:
        for call in calls:
            call.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for channel in channels:
            await channel.close()
    return result


async def deliver(appender: Any, ns: str, thread: str, fanout: Fanout) -> float:
    """Appends one event and waits until every subscriber has received it;
    returns how long the append call took (s)."""
    fanout.delivered = 0
    fanout.all_delivered.clear()
    sent = time.monotonic_ns()
    await appender.AppendEvents(
        ev.AppendEventsRequest(
            namespace=ns,
            thread_id=thread,
            events=[ev.EventInput(type="bench.tick", attributes={"sent_ns": str(sent)})],
        ),
        timeout=CALL_TIMEOUT_S,
    )
    appended = time.monotonic_ns()
    try:
        await asyncio.wait_for(fanout.all_delivered.wait(), DELIVERY_TIMEOUT_S)
    except TimeoutError:
        raise RuntimeError(
            f"{fanout.delivered} of {fanout.subscribers} subscribers received an event "
            f"within {DELIVERY_TIMEOUT_S} s"
        ) from None
    fanout.check()
    return (appended - sent) / 1e9


async def idle_cpu(server: ServerProcess, seconds: float) -> dict[str, Any]:
    """CPU time the server's processes and Redis use over `seconds` of quiet."""
    pids = {f"server[{pid}]": pid for pid in server.server_pids()}
    redis_process = server.redis_pid()
    if redis_process is not None:
        pids["redis"] = redis_process
    await asyncio.sleep(1.0)  # let the last deliveries settle
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    began = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - began
    used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return {
        "seconds": elapsed,
        "cpu_seconds": used,
        "cpu_percent_of_one_core": {name: 100 * cpu / elapsed for name, cpu in used.items()},
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(count) for count in args.subscribers.split(",")]
    async with given_or_embedded_memrpc(
        args.address, args.redis_url, workers=args.workers
    ) as target:
        results: dict[str, Any] = {
            "benchmark": "tail_latency",
            "machine": machine_info(await target.redis.info("server")),
            "client_fd_limit": fd_limit(os.getpid()),
            "settings": {
                "subscribers": counts,
                "events": args.events,
                "warmup": args.warmup,
                "gap_ms": args.gap_ms,
                "idle_seconds": args.idle_seconds,
                "workers": args.workers,
            },
            "runs": [],
        }
        for count in counts:
            print(f"{count} subscribers ...", file=sys.stderr, flush=True)
            run = await measure(
                target.address,
                target.redis,
                count,
                events=args.events,
                warmup=args.warmup,
                gap_s=args.gap_ms / 1000,
                server=target.server,
                idle_s=args.idle_seconds if count == max(counts) else 0.0,
            )
            results["runs"].append(run)
    print_table(results["runs"])
    return results


def print_table(runs: Sequence[dict[str, Any]]) -> None:
    print(
        f"{'subscribers':>11}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'last p50':>10}"
        f"{'append p50':>12}{'redis conns':>13}{'server CPU/event':>18}"
    )
    for run in runs:
        receive, last = run["receive"], run["last_subscriber"]
        print(
            f"{run['subscribers']:>11}{receive['p50_ms']:>9.2f}{receive['p90_ms']:>9.2f}"
            f"{receive['p99_ms']:>9.2f}{last['p50_ms']:>10.2f}"
            f"{run['append_call']['p50_ms']:>12.2f}{run['redis_connected_clients']:>13}"
            f"{run['server_cpu_ms_per_event']:>15.2f} ms"
        )
        if "idle" in run:
            idle = run["idle"]
            shares = ", ".join(
                f"{name} {cpu:.2f}%" for name, cpu in idle["cpu_percent_of_one_core"].items()
            )
            print(
                f"  idle {idle['seconds']:.1f} s with {run['subscribers']} subscribers: "
                f"CPU {shares} of one core; server fds {run.get('server_open_fds')} "
                f"(limit {run.get('server_fd_limit')})"
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tail_latency",
        description="TailEvents append → receive latency by subscriber count, and idle CPU.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--subscribers", default="1,100,1000", help="comma-separated counts")
    parser.add_argument("--events", type=int, default=100, help="measured events per count")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured events first")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="pause between events")
    parser.add_argument(
        "--idle-seconds", type=float, default=5.0, help="idle CPU window at the largest count"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes to start")
    add_target_arguments(parser)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parse_with_target(parser, argv)
    results = asyncio.run(bench(args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
