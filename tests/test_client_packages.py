"""Every client installs like a package of its ecosystem and works from
there: each language's `tests/packages/<lang>/check` builds the client's
package from a clean copy of the checkout (wheel and sdist, npm tarball, Maven
artifacts with sources and javadoc, Go module zips served by a file GOPROXY,
gem, CMake install tree), installs it into a scratch project outside the
repository, as a user would, and runs a program there that writes a session
(UpdateSession, AppendTurns) and reads it back (GetSession) on the live
server; the test then reads that session with its own stub. A check exits 77
when its toolchain is missing (skip_or_fail). Builds are cached (by the
digest of their inputs, under .tools/package-tests/), so a second run mostly
installs and calls.

Also: one version for everything, the VERSION file (tools/set-version)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest

from memrpc.server import MemrpcServer
from memrpc.v1 import working_memory_pb2 as wm_pb2
from memrpc.v1 import working_memory_pb2_grpc
from support import ROOT, skip_or_fail

LANGS = ["python", "typescript", "java", "go", "ruby", "cpp"]
SKIP = 77  # a check whose toolchain is missing
# A cold check builds (and downloads) everything; a warm one installs and calls.
CHECK_TIMEOUT_S = 1500
VERSION = (ROOT / "VERSION").read_text("utf-8").strip()
# The goal each language's consumer program writes.
GOALS = {lang: f"installed {lang} package" for lang in LANGS}


async def run_check(lang: str, args: list[str], limit_s: float) -> tuple[int, str]:
    """Runs tests/packages/<lang>/check with `args`; on time-out kills its
    whole process group (builds start children) and fails."""
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / "tests" / "packages" / lang / "check"),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "MEMRPC_BUILD_JOBS": os.environ.get("MEMRPC_BUILD_JOBS", "2")},
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), limit_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        pytest.fail(f"{lang}: tests/packages/{lang}/check took over {limit_s} s")
    assert proc.returncode is not None
    return proc.returncode, output.decode(errors="replace")


@pytest.mark.timeout(CHECK_TIMEOUT_S + 60)
@pytest.mark.parametrize("lang", LANGS)
async def test_installed_package_calls_the_server(
    lang: str, memrpc_server: MemrpcServer, tmp_path: Path
) -> None:
    ns = f"pkg{lang}{uuid.uuid4().hex[:10]}"
    thread = f"thread-{lang}"
    work = tmp_path / "work"
    work.mkdir()
    code, output = await run_check(
        lang, [f"127.0.0.1:{memrpc_server.port}", ns, thread, str(work)], CHECK_TIMEOUT_S
    )
    if code == SKIP:
        skip_or_fail(f"{lang}: toolchain missing: {output.strip()[-2000:]}")
    assert code == 0, f"{lang}: the installed package's check failed:\n{output[-8000:]}"
    # The consumer's writes, read back here.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{memrpc_server.port}") as channel:
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        response = await stub.GetSession(wm_pb2.GetSessionRequest(namespace=ns, thread_id=thread))
    assert response.session.goal == GOALS[lang], output
    assert [turn.content for turn in response.session.turns] == [f"hello from the {lang} package"]


def test_one_version_everywhere() -> None:
    """VERSION is the version of the server and of every client: what reads
    it does (the Python packages' metadata, CMake, the Go zips); every copy
    where an ecosystem cannot read a file says the same (tools/set-version)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "set-version"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert importlib.metadata.version("memrpc") == VERSION, "run make install"
    assert importlib.metadata.version("memrpc-client") == VERSION, "run make install"
    cmake = (ROOT / "clients" / "cpp" / "CMakeLists.txt").read_text("utf-8")
    assert "project(memrpc_client VERSION ${_memrpc_version}" in cmake
