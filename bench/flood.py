"""One tenant floods, another works: what the calm tenant sees, with and
without the overload protections (docs/deployment.md#overload).

For each mode a fresh `memrpc serve` (embedded Redis, the real model) gets,
for `--seconds`: the flooding namespace's `--flooders` workers, each sending
text searches of new texts back to back and retrying a refusal at once
(ignoring RetryInfo: the worst case), and the calm namespace's one worker
alternating a text search of a new text and a GetSession. It prints, per
mode, the calm tenant's p50/p99 per call and its failures, and the
flooder's calls served and refused. Loopback only; bounded in time.

    .venv/bin/python -m bench.flood [--seconds 15] [--flooders 128]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import grpc

from bench.servers import start_memrpc
from bench.stats import percentiles_ms
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import working_memory_pb2 as wm

# The modes compared: their name and the flags they add to the defaults.
MODES: dict[str, list[str]] = {
    "unprotected": ["--tenant-max-in-flight", "0", "--embed-queue-max", "1000000"],
    "defaults": [],
    "in-flight 8": ["--tenant-max-in-flight", "8"],
}
_texts = itertools.count()


def _text(who: str) -> str:
    return f"what did {who} say about trip number {next(_texts)} to the mountains"


async def _flooder(channel: grpc.aio.Channel, until: float, counts: dict[str, int]) -> None:
    stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    while time.monotonic() < until:
        try:
            request = ltm.SearchMemoriesRequest(namespace="flood", text=_text("flood"))
            await stub.SearchMemories(request, timeout=60)
            counts["served"] += 1
        except grpc.aio.AioRpcError as err:
            counts[err.code().name] = counts.get(err.code().name, 0) + 1


async def _calm(channel: grpc.aio.Channel, until: float) -> dict[str, object]:
    memories = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
    await sessions.UpdateSession(
        wm.UpdateSessionRequest(namespace="calm", thread_id="t", session=wm.SessionInput(goal="g"))
    )
    samples: dict[str, list[float]] = {"SearchMemories(text)": [], "GetSession": []}
    failures: dict[str, int] = {}
    while time.monotonic() < until:
        for name, call in (
            (
                "SearchMemories(text)",
                lambda: memories.SearchMemories(
                    ltm.SearchMemoriesRequest(namespace="calm", text=_text("calm")), timeout=60
                ),
            ),
            (
                "GetSession",
                lambda: sessions.GetSession(
                    wm.GetSessionRequest(namespace="calm", thread_id="t"), timeout=60
                ),
            ),
        ):
            started = time.perf_counter()
            try:
                await call()
                samples[name].append(time.perf_counter() - started)
            except grpc.aio.AioRpcError as err:
                key = f"{name} {err.code().name}"
                failures[key] = failures.get(key, 0) + 1
    return {**{name: percentiles_ms(s) for name, s in samples.items()}, "failures": failures}


async def _run(mode: str, flags: Sequence[str], seconds: float, flooders: int) -> None:
    with tempfile.TemporaryDirectory(prefix="memrpc-flood-", dir="/tmp") as work:
        server = await start_memrpc(None, Path(work), log_level="WARNING", extra_args=flags)
        try:
            async with (
                grpc.aio.insecure_channel(server.target) as flood_channel,
                grpc.aio.insecure_channel(server.target) as calm_channel,
            ):
                until = time.monotonic() + seconds
                counts: dict[str, int] = {"served": 0}
                flood = [
                    asyncio.create_task(_flooder(flood_channel, until, counts))
                    for _ in range(flooders)
                ]
                calm = await _calm(calm_channel, until)
                await asyncio.gather(*flood)
        finally:
            server.stop(60.0)
    print(f"== {mode} ({' '.join(flags) or 'no flags'})")
    for name in ("SearchMemories(text)", "GetSession"):
        s = calm[name]
        assert isinstance(s, dict)
        print(f"  calm {name}: n={s['n']} p50={s['p50_ms']:.1f} ms p99={s['p99_ms']:.1f} ms")
    print(f"  calm failures: {calm['failures'] or 'none'}")
    print(f"  flooder: {counts}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--flooders", type=int, default=128)
    args = parser.parse_args(argv)
    for mode, flags in MODES.items():
        asyncio.run(_run(mode, flags, args.seconds, args.flooders))


if __name__ == "__main__":
    main()
