"""Peak memory of an export and an import: a memrpc with its own embedded
Redis is filled with `--memories` memories (random 384-d vectors sent with
each, so no embedding is spent) and `--threads` threads of `--events`
events each; then `memrpc export` writes it to a file, and `memrpc import`
restores the file into another namespace of the same server. It prints the
peak RSS (VmHWM) of the server process and of each CLI process, the file's
size, and the time each took: the export's memory must not grow with the
namespace.

    .venv/bin/python -m bench.export_memory --memories 200000 --threads 2000 --events 100

Not part of `make bench` (it takes minutes at a size worth measuring).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

from bench.servers import embedded_memrpc
from memrpc.v1 import event_log_pb2 as ev_pb
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm_pb

MEMRPC = Path(sys.executable).parent / "memrpc"


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def fill(address: str, ns: str, memories: int, threads: int, events: int) -> None:
    rng = np.random.default_rng(7)
    async with grpc.aio.insecure_channel(address) as channel:
        ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        log = event_log_pb2_grpc.EventLogStub(channel)
        batch = 100

        async def create(first: int) -> None:
            items = []
            for i in range(first, min(first + batch, memories)):
                vector = rng.standard_normal(384).astype(np.float32)
                items.append(
                    ltm_pb.MemoryInput(
                        text=f"memory {i}: " + "some remembered fact about the user " * 3,
                        user_id=f"user{i % 1000}",
                        embedding=(vector / np.linalg.norm(vector)).tolist(),
                    )
                )
            await ltm.CreateMemories(
                ltm_pb.CreateMemoriesRequest(namespace=ns, memories=items, dedup_max_distance=0)
            )

        async def append(thread: int) -> None:
            for first in range(0, events, 100):
                await log.AppendEvents(
                    ev_pb.AppendEventsRequest(
                        namespace=ns,
                        thread_id=f"thread-{thread}",
                        events=[
                            ev_pb.EventInput(type="step", data=os.urandom(200))
                            for _ in range(min(100, events - first))
                        ],
                        max_len=events,
                    )
                )

        jobs = [create(first) for first in range(0, memories, batch)]
        jobs += [append(thread) for thread in range(threads)]
        for at in range(0, len(jobs), 16):
            await asyncio.gather(*jobs[at : at + 16])


def run_cli(args: list[str]) -> tuple[float, float]:
    """Runs the CLI; its peak RSS (MB, sampled) and seconds."""
    started = time.monotonic()
    process = subprocess.Popen([str(MEMRPC), *args], stdout=subprocess.DEVNULL)
    peak = 0.0
    while process.poll() is None:
        try:
            peak = max(peak, peak_rss_mb(process.pid))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    if process.wait() != 0:
        raise SystemExit(f"memrpc {args[0]} failed")
    return peak, time.monotonic() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    async with embedded_memrpc(extra_args=["--jobs", "false"]) as server:
        address = f"127.0.0.1:{server.port}"
        [pid] = server.server_pids()
        started = time.monotonic()
        await fill(address, "bench", args.memories, args.threads, args.events)
        filled = time.monotonic() - started
        before = rss_mb(pid)
        with tempfile.TemporaryDirectory(prefix="memrpc-export-") as work:
            path = Path(work) / "export.jsonl"
            common = ["--target", address]
            export_peak, export_s = run_cli(
                ["export", *common, "--namespace", "bench", "--output", str(path)]
            )
            after_export = peak_rss_mb(pid)
            size_mb = path.stat().st_size / 1e6
            import_peak, import_s = run_cli(
                ["import", *common, "--namespace", "restored", "--input", str(path)]
            )
        print(
            f"memories {args.memories}, threads {args.threads} x {args.events} events "
            f"(filled in {filled:.0f} s); file {size_mb:.0f} MB\n"
            f"server RSS before export {before:.0f} MB, peak after export {after_export:.0f} MB, "
            f"after import {peak_rss_mb(pid):.0f} MB (peak, VmHWM: includes the fill)\n"
            f"export CLI peak RSS {export_peak:.0f} MB in {export_s:.0f} s; "
            f"import CLI peak RSS {import_peak:.0f} MB in {import_s:.0f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
