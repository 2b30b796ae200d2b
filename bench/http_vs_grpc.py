"""The HTTP door against gRPC, alone: `python -m bench.http_vs_grpc [--smoke]
[--out DIR]` from the repository root.

The same measurements as the full run's (`bench/run.py`): GetSession and
SearchMemories(vector) over HTTP/JSON (`bench/http_door.py`), over gRPC and
the raw Redis command of each, taking turns in one run, on the full run's
dataset; in a minute rather than the full run's half hour. Prints the
table and the ratios, writes `http_vs_grpc.json` to the output directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path

import redis.asyncio

from bench import report
from bench.channels import ChannelPool
from bench.corpus import Dataset, build_dataset
from bench.floors import redis_operations
from bench.http_door import HttpWorkload
from bench.run import CHANNELS, FULL, SCHEDULE, SMOKE, Run, scheduled
from bench.servers import REPO, free_port, start_memrpc, start_redis
from bench.workloads import MemrpcWorkload
from memrpc.embedding import OnnxModel


async def measure(run: Run, data: Dataset) -> None:
    """Seeds memrpc, then measures the batches of `SCHEDULE` that hold an
    `http` operation; servers stopped whatever happens."""
    redis_server = start_redis(run.work / "redis")
    client = redis.asyncio.from_url(redis_server.url, max_connections=256)
    http_port = free_port()
    memrpc = await start_memrpc(
        redis_server.url, run.work, extra_args=["--http-listen", f"127.0.0.1:{http_port}"]
    )
    pool = ChannelPool(memrpc.target, CHANNELS)
    http = HttpWorkload(f"http://127.0.0.1:{http_port}", data, CHANNELS)
    try:
        run.report["machine"] = report.machine_info(await client.info("server"))
        await pool.ready()
        workload = MemrpcWorkload(pool, data)
        run.log("seeding memrpc")
        await workload.seed()
        groups = {
            "memrpc": workload.operations(),
            "http": http.operations(),
            "floors": redis_operations(client, data),
        }
        wanted = [set(batch) for batch in SCHEDULE if any(g == "http" for g, _ in batch)]
        for batch in scheduled(groups):
            if {(group, op.name) for group, op in batch} in wanted:
                await run.measure_batch(batch)
    finally:
        await http.aclose()
        await pool.close()
        memrpc.stop()
        await client.aclose()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks it")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    profile = SMOKE if args.smoke else FULL
    work = Path(tempfile.mkdtemp(prefix="mrhttp-"))
    run = Run(profile, args.out, work)
    data = build_dataset(
        OnnxModel(threads=1),
        threads=profile.threads,
        memories=profile.memories,
        queries=profile.queries,
    )
    try:
        asyncio.run(measure(run, data))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = [r for r in report.ratios(run.report) if r["name"].startswith("HTTP/JSON")]
    run.report["ratios"] = ratios
    print(report.table(run.report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "http_vs_grpc.json").write_text(json.dumps(run.report, indent=2) + "\n")


if __name__ == "__main__":
    main()
