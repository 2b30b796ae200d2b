"""grpcurl and ghz for the tests (tests/test_reflection.py,
tests/test_descriptors.py): the `grpc_cli` fixture (conftest.py) builds them once with
tools/build-grpc-tools (cached in .tools/; without Go, a loud skip, or a
failure under MEMRPC_REQUIRE_ALL_LANGS=1), `run` runs one off the event loop
(the server under test runs on it) with a bounded time."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memrpc.server import MemrpcServer
from support import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
SKIP = 77  # tools/build-grpc-tools: the Go toolchain is missing
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 60
GHZ_CALLS = 20


@dataclass(frozen=True)
class Tools:
    grpcurl: str
    ghz: str


def build() -> Tools:
    """grpcurl and ghz, built once (and cached in .tools/): the `grpc_cli`
    fixture of conftest.py."""
    result = subprocess.run(
        [str(ROOT / "tools" / "build-grpc-tools")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if result.returncode == SKIP:
        skip_or_fail(f"grpcurl and ghz: {result.stderr.strip()}")
    assert result.returncode == 0, f"tools/build-grpc-tools failed:\n{result.stderr}"
    grpcurl, ghz = result.stdout.split()
    return Tools(grpcurl, ghz)


async def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a tool off the event loop (the server under test runs on it),
    bounded in time; with `check`, a non-zero exit fails the test."""
    result = await asyncio.to_thread(
        subprocess.run,
        list(args),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        cwd=ROOT,
    )
    if check:
        assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stderr}"
    return result


def address(server: MemrpcServer) -> str:
    return f"127.0.0.1:{server.port}"


async def ghz_report(tools: Tools, *args: str) -> dict[str, Any]:
    """ghz's JSON report of GHZ_CALLS calls (2 at a time) with `args`."""
    result = await run(
        tools.ghz,
        "--insecure",
        "-n",
        str(GHZ_CALLS),
        "-c",
        "2",
        "--timeout",
        "10s",
        "-O",
        "json",
        *args,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


async def grpcurl_call(
    tools: Tools, target: str, method: str, body: dict[str, Any], *flags: str
) -> dict[str, Any]:
    """The JSON answer of grpcurl's call of `method` (`pkg.Service/Method`)
    with `body`, plaintext, through reflection unless `flags` say otherwise."""
    result = await run(tools.grpcurl, "-plaintext", *flags, "-d", json.dumps(body), target, method)
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer
