"""The benchmark run: `python -m bench.run [--smoke] [--out DIR]` from the
repository root.

Starts an embedded Redis, the memrpc server and the echo server (loopback
only, in a temporary directory), seeds data, measures every operation of
each group (echo floor, memrpc RPCs, raw Redis and embedding floors, the
redis.io reference pattern), measures the Redis time of ListSessions over
expired sessions and of a 100-item CreateMemories (`bench/redis_time.py`),
the overhead of metrics on the hot path (`bench/telemetry.py`), memory
formation under a steady turn load (`bench/formation_load.py`), what a
memory costs in Redis against the floor of any searchable vector
(`bench/memory_floor.py`) and one namespace of 100,000 memories
(`bench/scale.py`), calls the Go load generator, the multi-worker mode and
the Agent Memory Server peer when present, then prints a table and writes `results.json` to the
output directory. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio

from bench import (
    external,
    formation_load,
    job_lag,
    memory_floor,
    redis_time,
    report,
    scale,
    telemetry,
)
from bench.channels import ChannelPool
from bench.corpus import NAMESPACE, Dataset, build_dataset
from bench.echo import echo_call
from bench.floors import embedding_operations, redis_operations
from bench.http_door import HttpWorkload
from bench.measure import Operation, Plan, measure, throughput
from bench.reference_pattern import ReferencePattern
from bench.servers import REPO, ServerProcess, free_port, start_echo, start_memrpc, start_redis
from bench.workloads import MemrpcWorkload
from memrpc.embedding import OnnxModel

CHANNELS = 8
ECHO_PAYLOAD = bytes(range(64))
WORKER_COUNTS = (1, 2)
WORKER_CONCURRENCY = 64
WORKER_OPS = ("GetSession", "AppendTurns", "SearchMemories(vector)", "SearchMemories(text)")
LOADGEN_CONCURRENCIES = (1, 16, 64)
# The load generator seeds its own sessions: threads of its own.
LOADGEN_THREADS = {"GetSession": "lg-get", "AppendTurns": "lg-append", "AppendEvents": "lg-events"}
# Connections of the load generator against workers: enough for the
# kernel's SO_REUSEPORT hash to spread them.
LOADGEN_WORKER_CONNECTIONS = 8
WORKER_LOADGEN_RPCS = ("GetSession", "SearchMemoriesVector")
VECTOR_FILE = "query_vector.json"


@dataclass(frozen=True)
class Profile:
    """The size of a run."""

    plan: Plan
    threads: int
    memories: int
    queries: int
    loadgen_duration_s: float
    loadgen_warmup_s: float
    peers: bool
    redis_time: redis_time.Sizes
    telemetry: telemetry.Sizes
    formation: formation_load.Sizes
    scale: scale.Sizes
    floor_memories: int


FULL = Profile(
    plan=Plan(
        warmup_s=0.5,
        latency_max_samples=3000,
        latency_max_s=1.5,
        throughput_s=2.5,
        throughput_max_calls=300_000,
    ),
    threads=64,
    memories=2000,
    queries=64,
    loadgen_duration_s=3.0,
    loadgen_warmup_s=1.0,
    peers=True,
    redis_time=redis_time.FULL,
    telemetry=telemetry.FULL,
    formation=formation_load.FULL,
    scale=scale.FULL,
    floor_memories=memory_floor.MEMORIES,
)
SMOKE = Profile(
    plan=Plan(
        warmup_s=0.05,
        latency_max_samples=40,
        latency_max_s=0.3,
        throughput_s=0.25,
        throughput_max_calls=2000,
    ),
    threads=4,
    memories=40,
    queries=8,
    loadgen_duration_s=1.0,
    loadgen_warmup_s=0.2,
    peers=False,
    redis_time=redis_time.Sizes(expired=2000, list_calls=5, create_calls=2),
    telemetry=telemetry.SMOKE,
    formation=formation_load.SMOKE,
    scale=scale.SMOKE,
    floor_memories=200,
)


# The order operations are measured in: each floor and peer next to the
# memrpc RPC it is compared with, and reads before the writes that grow the
# index. A tuple of several is measured together, phase by phase in
# alternating order (see `measure.measure`). Operations not named here
# follow, one by one.
SCHEDULE: tuple[tuple[tuple[str, str], ...], ...] = (
    (("echo", "echo"),),
    (("floors", "HGETALL"), ("memrpc", "GetSession"), ("http", "GetSession")),
    (("reference", "GetSession"),),
    (("memrpc", "GetMemory"),),
    (("memrpc", "ListEvents"),),
    (
        ("floors", "FT.SEARCH KNN"),
        ("memrpc", "SearchMemories(vector)"),
        ("http", "SearchMemories(vector)"),
    ),
    (("reference", "SearchMemories(vector)"),),
    (("memrpc", "GetContext"), ("memrpc", "GetSession+SearchMemories")),
    (("floors", "embed(1 text)"),),
    (("floors", "embed(16 texts)"),),
    (("memrpc", "SearchMemories(text)"),),
    (("memrpc", "SearchMemories(text,repeated)"),),
    (("reference", "SearchMemories(text)"),),
    (("memrpc", "UpdateSession"),),
    (("memrpc", "AppendTurns"),),
    (("reference", "AppendTurns"),),
    (("floors", "XADD"), ("memrpc", "AppendEvents")),
    (("reference", "AppendEvents"),),
    (("floors", "HSET+index"), ("memrpc", "CreateMemories(unique)")),
    (("reference", "CreateMemories(unique)"),),
    (("memrpc", "CreateMemories(text)"),),
    (("memrpc", "CreateMemories(duplicate)"),),
    (("memrpc", "turn"),),
    (("memrpc", "step"), ("reference", "turn")),
)


# The first operation of `SCHEDULE` that writes.
FIRST_WRITE = ("memrpc", "UpdateSession")


def scheduled(groups: dict[str, list[Operation]]) -> list[list[tuple[str, Operation]]]:
    """Every operation of `groups` as (group, operation), in batches to
    measure together: `SCHEDULE`, then the rest one by one."""
    by_key = {(group, op.name): op for group, ops in groups.items() for op in ops}
    batches = [[key for key in batch if key in by_key] for batch in SCHEDULE]
    named = {key for batch in SCHEDULE for key in batch}
    batches += [[key] for key in by_key if key not in named]
    return [[(group, by_key[(group, name)]) for group, name in batch] for batch in batches if batch]


class Run:
    """One benchmark run: its servers, data and report."""

    def __init__(self, profile: Profile, out: Path, work: Path) -> None:
        self.profile = profile
        self.out = out
        self.work = work
        self.began = time.monotonic()
        self.report: dict[str, Any] = {
            "suite": "memrpc bench",
            "mode": "smoke" if profile is SMOKE else "full",
            "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "settings": {
                "plan": profile.plan.__dict__,
                "client": "Python grpc.aio in one process (its overhead is in every number; "
                "the Go load generator section removes it)",
                "channels": CHANNELS,
                "echo_payload_bytes": len(ECHO_PAYLOAD),
                "namespace": NAMESPACE,
                "threads": profile.threads,
                "seeded_memories": profile.memories,
                "query_vectors": profile.queries,
                "redis": "embedded valkey + RediSearch + RedisJSON (memrpc.embedded_redis) on "
                "TCP loopback, shared by memrpc, the floors and the peers",
                "memrpc_server": "memrpc serve, default settings (embed threads 1, "
                "embed cache 4096, background jobs in-process)",
            },
            "groups": {group: {} for group in report.GROUPS},
        }

    def log(self, text: str) -> None:
        """A progress line on stderr."""
        print(f"[{time.monotonic() - self.began:6.1f}s] {text}", file=sys.stderr, flush=True)

    async def measure_batch(self, batch: list[tuple[str, Operation]]) -> None:
        """Measures operations together; records each under its group."""
        self.log(" + ".join(f"{group}: {op.name}" for group, op in batch))
        results = await measure([op for _, op in batch], self.profile.plan)
        for (group, op), result in zip(batch, results, strict=True):
            self.report["groups"][group][op.name] = {
                "note": op.note,
                "items_per_call": op.items,
                "latency": result.latency.to_json(),
                "throughput": {str(c): s.to_json() for c, s in result.throughput.items()},
            }

    async def execute(self) -> None:
        """Everything, in order; servers stopped whatever happens."""
        redis_server = start_redis(self.work / "redis")
        client = redis.asyncio.from_url(redis_server.url, max_connections=256)
        servers: list[ServerProcess] = []
        try:
            self.report["machine"] = report.machine_info(await client.info("server"))
            self.log("loading the embedding model and embedding the dataset")
            model = OnnxModel(threads=1)
            profile = self.profile
            data = build_dataset(
                model, threads=profile.threads, memories=profile.memories, queries=profile.queries
            )
            echo = await start_echo(self.work)
            servers.append(echo)
            http_port = free_port()
            memrpc = await start_memrpc(
                redis_server.url,
                self.work,
                extra_args=["--http-listen", f"127.0.0.1:{http_port}"],
            )
            servers.append(memrpc)
            await self.measure_all(
                echo.target,
                memrpc.target,
                client,
                model,
                data,
                http_url=f"http://127.0.0.1:{http_port}",
                before_writes=lambda: self.run_loadgen(echo.target, memrpc.target, data),
            )
            self.log(f"Redis time: {profile.redis_time.expired:,} expired sessions")
            self.report["redis_time"] = await redis_time.measure(
                memrpc.target, client, namespace=NAMESPACE, sizes=profile.redis_time
            )
            self.log("telemetry overhead: metrics on against off")
            self.report["telemetry"] = await telemetry.measure(
                redis_server.url, self.work, data, profile.telemetry
            )
            self.log("formation under a steady turn load, on against off")
            self.report["formation"] = await formation_load.measure(profile.formation)
            self.log(f"memory floor: {profile.floor_memories:,} memories per layout")
            self.report["memory_floor"] = await memory_floor.measure(profile.floor_memories)
            for vector_type, section in scale.SECTIONS.items():
                self.log(f"scale: {profile.scale.memories:,} memories, {vector_type} vectors")
                self.report[section] = await scale.measure(profile.scale, vector_type=vector_type)
            await self.measure_workers(redis_server.url, memrpc.target, data)
            await self.run_ams(redis_server.url)
        finally:
            for server in servers:
                server.stop()
            await client.aclose()
            redis_server.stop()
        self.report["machine"]["load_average_end"] = os.getloadavg()

    async def measure_all(
        self,
        echo_target: str,
        memrpc_target: str,
        client: redis.asyncio.Redis,
        model: OnnxModel,
        data: Dataset,
        *,
        http_url: str,
        before_writes: Callable[[], Awaitable[None]],
    ) -> None:
        """Seeds memrpc and the reference pattern, then measures every
        operation of every group in `SCHEDULE` order, running `before_writes`
        once the reads are done (so that it sees the seeded data only),
        sampling the summary job's lag meanwhile (`bench/job_lag.py`)."""
        echo_pool = ChannelPool(echo_target, CHANNELS)
        memrpc_pool = ChannelPool(memrpc_target, CHANNELS)
        http = HttpWorkload(http_url, data, CHANNELS)
        try:
            await echo_pool.ready()
            await memrpc_pool.ready()
            calls = [echo_call(channel) for channel in echo_pool.channels]
            echo = Operation(
                report.ECHO,
                lambda n: calls[n % len(calls)](ECHO_PAYLOAD),
                note=f"{len(ECHO_PAYLOAD)} bytes each way",
            )
            workload = MemrpcWorkload(memrpc_pool, data)
            reference = ReferencePattern(client, model, data)
            self.log("seeding memrpc and the reference pattern")
            await workload.seed()
            await reference.seed()
            groups = {
                "echo": [echo],
                "memrpc": workload.operations(),
                "http": http.operations(),
                "floors": redis_operations(client, data) + embedding_operations(model),
                "reference": reference.operations(),
            }
            batches = scheduled(groups)
            keys = [(batch[0][0], batch[0][1].name) for batch in batches]
            first_write = keys.index(FIRST_WRITE) if FIRST_WRITE in keys else len(batches)
            lag = job_lag.LagSampler(client, NAMESPACE)
            lag.start()
            try:
                for batch in batches[:first_write]:
                    await self.measure_batch(batch)
                await before_writes()
                for batch in batches[first_write:]:
                    await self.measure_batch(batch)
            finally:
                self.report["summary_job"] = await lag.stop()
        finally:
            await echo_pool.close()
            await memrpc_pool.close()
            await http.aclose()

    async def run_loadgen(self, echo_target: str, memrpc_target: str, data: Dataset) -> None:
        """The Go load generator against echo and memrpc, when it builds."""
        section: dict[str, Any] = {"results": []}
        self.report["loadgen"] = section
        if not self.profile.peers:
            section["status"] = "not run: --smoke"
            return
        self.log("loadgen: building")
        section["status"] = await external.build_loadgen()
        if section["status"] != "ok":
            return
        vector_file = self.work / VECTOR_FILE
        vector_file.write_text(json.dumps(data.query_vectors[0].tolist()))
        for rpc in report.LOADGEN_RPCS:
            for concurrency in LOADGEN_CONCURRENCIES:
                self.log(f"loadgen: {rpc} c={concurrency}")
                section["results"].append(
                    await external.run_loadgen(
                        echo_target if rpc == "echo" else memrpc_target,
                        rpc,
                        namespace=NAMESPACE,
                        concurrency=concurrency,
                        duration_s=self.profile.loadgen_duration_s,
                        warmup_s=self.profile.loadgen_warmup_s,
                        thread=LOADGEN_THREADS.get(rpc),
                        vector_file=vector_file if rpc == "SearchMemoriesVector" else None,
                    )
                )

    async def measure_workers(self, redis_url: str, memrpc_target: str, data: Dataset) -> None:
        """Throughput at c=64 with 1 worker (the server measured above) and 2."""
        section: dict[str, Any] = {"concurrency": WORKER_CONCURRENCY, "results": {}}
        self.report["workers"] = section
        section["status"] = await external.workers_supported()
        if section["status"] != "ok":
            return
        for workers in WORKER_COUNTS:
            server = None
            if workers == 1:
                target = memrpc_target
            else:
                self.log(f"workers: starting memrpc --workers {workers}")
                try:
                    server = await start_memrpc(redis_url, self.work, workers=workers)
                except (RuntimeError, TimeoutError, OSError) as exc:
                    section["status"] = f"failed: memrpc --workers {workers}: {exc}"[:2000]
                    return
                target = server.target
            try:
                section["results"][str(workers)] = await self._worker_rates(target, data, workers)
                if self.report["loadgen"]["status"] == "ok":
                    section.setdefault("loadgen", {})[str(workers)] = await self._worker_loadgen(
                        target
                    )
            finally:
                if server is not None:
                    server.stop()

    async def _worker_rates(self, target: str, data: Dataset, workers: int) -> dict[str, Any]:
        pool = ChannelPool(target, CHANNELS)
        await pool.ready()
        try:
            workload = MemrpcWorkload(pool, data, unique_base=(workers + 1) * 10_000_000)
            rates = {}
            for op in workload.operations():
                if op.name in WORKER_OPS:
                    self.log(f"workers={workers}: {op.name} c={WORKER_CONCURRENCY}")
                    summary = await throughput(op, self.profile.plan, WORKER_CONCURRENCY)
                    rates[op.name] = summary.to_json()
            return rates
        finally:
            await pool.close()

    async def _worker_loadgen(self, target: str) -> list[dict[str, Any]]:
        runs = []
        for rpc in WORKER_LOADGEN_RPCS:
            self.log(f"workers: loadgen {rpc} c={WORKER_CONCURRENCY}")
            runs.append(
                await external.run_loadgen(
                    target,
                    rpc,
                    namespace=NAMESPACE,
                    concurrency=WORKER_CONCURRENCY,
                    duration_s=self.profile.loadgen_duration_s,
                    warmup_s=self.profile.loadgen_warmup_s,
                    thread=LOADGEN_THREADS.get(rpc),
                    vector_file=self.work / VECTOR_FILE if rpc == "SearchMemoriesVector" else None,
                    connections=LOADGEN_WORKER_CONNECTIONS,
                )
            )
        return runs

    async def run_ams(self, redis_url: str) -> None:
        """The Agent Memory Server peer, when it can run here."""
        if not self.profile.peers:
            self.report["ams"] = {"status": "not run: --smoke", "ops": {}}
            return
        self.log("Agent Memory Server peer")
        self.report["ams"] = await external.run_ams(redis_url, self.work / "ams.json")

    def finish(self) -> Path:
        """Computes the ratios, prints the table, writes the JSON; its path."""
        self.report["elapsed_s"] = round(time.monotonic() - self.began, 1)
        self.report["ratios"] = report.ratios(self.report)
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "results.json"
        report.write_json(self.report, path)
        print(report.table(self.report))
        print(f"\nresults: {path}")
        return path


def main() -> None:
    """Entry point of `python -m bench.run`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the suite")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results", help="where results.json goes"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mrbench-"))
    run = Run(SMOKE if args.smoke else FULL, args.out, work)
    try:
        asyncio.run(run.execute())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    run.finish()


if __name__ == "__main__":
    main()
