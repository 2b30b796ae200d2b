"""The Redis-time bench (`bench/redis_time.py`) at a small size, against the
test server: it loads expired sessions, pages through them and reports the
Redis time of both calls. No timing assertions."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from memrpc.embedded_redis import EmbeddedRedis
from memrpc.server import MemrpcServer

REPO = Path(__file__).resolve().parents[1]


async def test_redis_time_bench_reports_both_calls(
    memrpc_server: MemrpcServer, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    out = tmp_path / "redis_time.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.redis_time",
        "--expired",
        "2000",
        "--list-calls",
        "3",
        "--create-calls",
        "1",
        "--address",
        f"127.0.0.1:{memrpc_server.port}",
        "--redis-url",
        redis_server.url,
        "--out",
        str(out),
        cwd=REPO,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 100)
    assert process.returncode == 0, stderr.decode()[-4000:]
    report = json.loads(out.read_text())
    assert report["expired_sessions"] == 2000
    listing = report["ListSessions"]
    assert listing["calls"] == listing["pages"] == 3
    assert listing["index_entries_after"] < listing["index_entries_before"]
    assert report["dedup_insert"]["calls"] > 0
    receives = report["events_receive"]
    assert receives["new"]["events"] == receives["redelivered"]["events"] > 0
    assert report["delete_memories"]["deleted"] > 0
    for entry in (listing, report["dedup_insert"], report["delete_memories"], *receives.values()):
        assert entry["max_ms"] >= entry["p50_ms"] > 0
