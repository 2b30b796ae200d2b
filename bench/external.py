"""Tools other parts of the suite provide, called when present: the Go load
generator (`bench/loadgen/`), the Agent Memory Server peer
(`bench/peers/ams/run`) and `memrpc serve --workers`. Each call returns a
JSON-ready dict with a `status`: "ok", or "not run: <reason>"."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from bench.servers import MEMRPC, REPO

LOADGEN_DIR = REPO / "bench" / "loadgen"
LOADGEN_BUILD = LOADGEN_DIR / "build"
LOADGEN_BIN = LOADGEN_DIR / "bin" / "loadgen"
AMS_RUN = REPO / "bench" / "peers" / "ams" / "run"
AMS_SKIPPED = 77
_TAIL = 2000


def _tail(text: str) -> str:
    return text.strip()[-_TAIL:]


async def _run(args: list[str], limit_s: float) -> subprocess.CompletedProcess[str]:
    """Runs a command off the event loop, output captured."""
    return await asyncio.to_thread(
        subprocess.run, args, cwd=REPO, capture_output=True, text=True, timeout=limit_s
    )


async def build_loadgen(limit_s: float = 600.0) -> str:
    """Builds the load generator; "ok" or "not run: <reason>"."""
    if not LOADGEN_BUILD.is_file():
        return f"not run: {LOADGEN_BUILD.relative_to(REPO)} does not exist"
    try:
        done = await _run([str(LOADGEN_BUILD)], limit_s)
    except subprocess.TimeoutExpired:
        return f"not run: the build took more than {limit_s:.0f} s"
    if done.returncode != 0:
        return f"not run: the build failed ({done.returncode}): {_tail(done.stderr)}"
    if not LOADGEN_BIN.is_file():
        return f"not run: the build did not make {LOADGEN_BIN.relative_to(REPO)}"
    return "ok"


async def run_loadgen(
    target: str,
    rpc: str,
    *,
    namespace: str,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    thread: str | None = None,
    vector_file: Path | None = None,
    connections: int | None = None,
) -> dict[str, Any]:
    """One load generator run; its JSON result with `status`."""
    args = [str(LOADGEN_BIN), "--target", target, "--rpc", rpc, "--namespace", namespace]
    args += ["--concurrency", str(concurrency)]
    args += ["--duration", f"{duration_s:g}s", "--warmup", f"{warmup_s:g}s"]
    if thread is not None:
        args += ["--thread", thread]
    if vector_file is not None:
        args += ["--vector-file", str(vector_file)]
    if connections is not None:
        args += ["--connections", str(connections)]
    base: dict[str, Any] = {"rpc": rpc, "concurrency": concurrency}
    try:
        done = await _run(args, duration_s + warmup_s + 60)
    except subprocess.TimeoutExpired:
        return {**base, "status": "not run: the load generator did not finish"}
    if done.returncode != 0:
        return {**base, "status": f"failed ({done.returncode}): {_tail(done.stderr)}"}
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {**base, "status": f"failed: not JSON: {_tail(done.stdout)}"}
    return {**base, **result, "status": "ok"}


async def run_ams(redis_url: str, out: Path, limit_s: float = 900.0) -> dict[str, Any]:
    """The Agent Memory Server peer on `redis_url`: its ops, or why not."""
    if not AMS_RUN.is_file():
        return {"status": f"not run: {AMS_RUN.relative_to(REPO)} does not exist", "ops": {}}
    try:
        done = await _run([str(AMS_RUN), "--redis-url", redis_url, "--out", str(out)], limit_s)
    except subprocess.TimeoutExpired:
        return {"status": f"not run: it took more than {limit_s:.0f} s", "ops": {}}
    if done.returncode == AMS_SKIPPED:
        return {"status": f"not run: {_tail(done.stderr) or 'skipped'}", "ops": {}}
    if done.returncode != 0:
        return {"status": f"not run: failed ({done.returncode}): {_tail(done.stderr)}", "ops": {}}
    try:
        result: dict[str, Any] = json.loads(await asyncio.to_thread(out.read_text))
    except (OSError, ValueError) as exc:
        return {"status": f"not run: no readable result in {out}: {exc}", "ops": {}}
    return {**result, "status": "ok", "ops": result.get("ops", {})}


async def workers_supported() -> str:
    """ "ok" when `memrpc serve` has `--workers`, else why not."""
    try:
        done = await _run([str(MEMRPC), "serve", "--help"], 60)
    except subprocess.TimeoutExpired:
        return "not run: memrpc serve --help did not finish"
    if "--workers" not in done.stdout:
        return "not run: memrpc serve has no --workers option"
    return "ok"
