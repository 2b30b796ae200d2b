"""Telemetry overhead: the hot-path RPCs with metrics on against off, in
the same run (target: p50 on <= 1.05 x off).

Two fresh memrpc servers on the run's Redis, side by side, the same but
for `--metrics-listen` (the default: off; on). GetSession and
AppendTurns are measured at concurrency 1 on each over a connection of its
own, interleaved: `rounds` rounds of `chunk` calls, the servers taking
turns in alternating order (off on, on off, ...), so that drift (the
windows growing, other load on the two cores) favours neither side. Then
the metrics are scraped once, to check that they counted the calls.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.channels import ChannelPool
from bench.corpus import Dataset
from bench.measure import Operation
from bench.servers import ServerProcess, free_port, start_memrpc
from bench.stats import summarize
from bench.workloads import MemrpcWorkload

OPS = ("GetSession", "AppendTurns")
SIDES = ("off", "on")
TARGET = "<= 1.05"
COUNTED = 'memrpc_rpc_calls_total{code="OK",method="/memrpc.v1.WorkingMemory/GetSession"}'


@dataclass(frozen=True)
class Sizes:
    """Calls per side: `warmup` unrecorded, then `rounds` x `chunk`."""

    warmup: int
    rounds: int
    chunk: int


FULL = Sizes(warmup=200, rounds=40, chunk=100)
SMOKE = Sizes(warmup=5, rounds=2, chunk=10)


async def _calls(op: Operation, count: int, samples: list[int] | None) -> int:
    """`count` calls back to back, their latencies (ns) into `samples`; the
    number that failed."""
    errors = 0
    for _ in range(count):
        begin = time.perf_counter_ns()
        try:
            await op.call(op.next_number())
        except Exception:
            errors += 1
            continue
        if samples is not None:
            samples.append(time.perf_counter_ns() - begin)
    return errors


def _scrape(port: int) -> float | None:
    """GetSession's OK count on the metrics endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(COUNTED + " "):
                return float(line.split()[1])
    return None


# Tries at a free metrics port: another process may take a port between
# `free_port` and the server's bind.
METRICS_PORT_TRIES = 3


async def _start(redis_url: str, work: Path, side: str) -> tuple[ServerProcess, int | None]:
    """A memrpc server with metrics `side`, and its metrics port ("on"; None
    when "off"), a free one taken again when the server found it taken."""
    (work / f"metrics-{side}").mkdir(exist_ok=True)
    if side != "on":
        return await start_memrpc(redis_url, work / f"metrics-{side}"), None

    async def on(port: int) -> tuple[ServerProcess, int]:
        listen = ["--metrics-listen", f"127.0.0.1:{port}"]
        return await start_memrpc(redis_url, work / "metrics-on", extra_args=listen), port

    for _ in range(METRICS_PORT_TRIES - 1):
        try:
            return await on(free_port())
        except RuntimeError as error:
            if "Address already in use" not in str(error):
                raise
    return await on(free_port())


async def measure(redis_url: str, work: Path, data: Dataset, sizes: Sizes) -> dict[str, Any]:
    """The section of the report: per operation, both sides' latency and
    the p50 and p99 ratios, on / off."""
    metrics_port: int | None = None
    servers: dict[str, ServerProcess] = {}
    pools: dict[str, ChannelPool] = {}
    section: dict[str, Any] = {"sizes": sizes.__dict__, "target": TARGET, "ops": {}}
    try:
        for side in SIDES:
            servers[side], port = await _start(redis_url, work, side)
            metrics_port = metrics_port or port
            pools[side] = ChannelPool(servers[side].target, 1)
        for pool in pools.values():
            await pool.ready()
        ops = {
            side: {op.name: op for op in MemrpcWorkload(pool, data).operations()}
            for side, pool in pools.items()
        }
        for name in OPS:
            samples: dict[str, list[int]] = {side: [] for side in SIDES}
            errors = dict.fromkeys(SIDES, 0)
            for side in SIDES:
                await _calls(ops[side][name], sizes.warmup, None)
            began = time.perf_counter()
            for round_ in range(sizes.rounds):
                for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
                    errors[side] += await _calls(ops[side][name], sizes.chunk, samples[side])
            elapsed = time.perf_counter() - began
            summaries = {
                side: summarize(
                    samples[side], concurrency=1, elapsed_s=elapsed / 2, errors=errors[side]
                )
                for side in SIDES
            }
            off, on_ = summaries["off"], summaries["on"]
            section["ops"][name] = {
                **{side: summary.to_json() for side, summary in summaries.items()},
                "p50_ratio": round(on_.p50_us / off.p50_us, 3) if off.p50_us else None,
                "p99_ratio": round(on_.p99_us / off.p99_us, 3) if off.p99_us else None,
            }
        assert metrics_port is not None
        section["counted_get_session_ok"] = _scrape(metrics_port)
        section["status"] = "ok"
    finally:
        for pool in pools.values():
            await pool.close()
        for server in servers.values():
            server.stop()
    return section
