"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import grpc
import numpy as np
import numpy.typing as npt
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, settings

from memrpc.docgen import error_reasons
from memrpc.embedded_redis import EmbeddedRedis, ServerBinary
from memrpc.namespace_defaults import NamespaceDefaults
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE
from memrpc.store.memory_index import INDEX, create_command, fields, indexing
from memrpc.store.redis_mux import Arg, RedisClient, RedisMux

# Property tests that run the same examples every time (derandomized, no
# example database), however slow a call to the server is.
REPRODUCIBLE = settings(
    deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)

# CI sets it: a test whose toolchain (Go, a language's compiler) is missing
# fails instead of skipping.
REQUIRE_ALL_LANGS = os.environ.get("MEMRPC_REQUIRE_ALL_LANGS") == "1"


def skip_or_fail(reason: str) -> None:
    """A missing toolchain: a loud skip, or a failure under MEMRPC_REQUIRE_ALL_LANGS=1."""
    if REQUIRE_ALL_LANGS:
        pytest.fail(f"{reason} (MEMRPC_REQUIRE_ALL_LANGS=1 forbids skipping)")
    warnings.warn(f"SKIPPED LANGUAGE: {reason}", stacklevel=2)
    pytest.skip(f"SKIPPED LANGUAGE: {reason}")


D = TypeVar("D", bound=Message)


def details_of(err: grpc.aio.AioRpcError, kind: type[D]) -> list[D]:
    """The details of type `kind` that an error carries."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    found: list[D] = []
    for detail in status.details if status is not None else ():
        if detail.Is(kind.DESCRIPTOR):
            message = kind()
            detail.Unpack(message)
            found.append(message)
    return found


# The repository's root.
ROOT = Path(__file__).resolve().parent.parent


def run_bench(module: str, *args: str, timeout: float) -> str:
    """Runs `python -m bench.<module> args` from the repository's root and
    returns what it printed; fails the test (with its output's end) unless
    it exits 0 within `timeout` seconds."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


# The `memrpc` command, run from this environment.
MEMRPC = [sys.executable, "-m", "memrpc.cli"]


def memrpc_exits(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`memrpc args`, which is expected to exit by itself within `timeout` s."""
    return subprocess.run(
        [*MEMRPC, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`memrpc serve args` on a free loopback port, which is expected to exit
    by itself."""
    return memrpc_exits("serve", "--listen", "127.0.0.1:0", *args, timeout=timeout)


def last_line(err: str) -> str:
    """The last line of a command's stderr, which held no traceback."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    return lines[-1]


@dataclass(frozen=True)
class DocumentedReason:
    """What error_reason.proto says of a reason: its status code and the
    metadata keys it carries."""

    code: grpc.StatusCode
    metadata: frozenset[str]


def documented_reasons() -> dict[str, DocumentedReason]:
    """Each `ErrorReason` of the proto with its documented code and
    metadata keys (as `make docs` reads them for docs/api.md)."""
    return {
        reason.name: DocumentedReason(grpc.StatusCode[reason.code], frozenset(reason.metadata))
        for reason in error_reasons(ROOT)
    }


_DOCUMENTED = documented_reasons()


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The one `ErrorInfo` of an error, checked against the contract: the
    server's domain, a reason of the proto returned with the status code and
    exactly the metadata keys error_reason.proto documents for it."""
    infos = details_of(err, error_details_pb2.ErrorInfo)
    assert len(infos) == 1, (err.code(), err.details(), infos)
    info = infos[0]
    assert info.domain == "memrpc.dev", info
    documented = _DOCUMENTED.get(info.reason)
    assert documented is not None, f"{info.reason} is not a documented reason"
    assert err.code() == documented.code, (info.reason, err.code(), err.details())
    assert set(info.metadata) == documented.metadata, (info.reason, dict(info.metadata))
    return info


def assert_reason(err: grpc.aio.AioRpcError, code: grpc.StatusCode, reason: str) -> dict[str, str]:
    """Asserts an error's code and ErrorInfo reason (`ERROR_REASON_` may be
    left out); returns its metadata."""
    info = error_info(err)
    assert err.code() == code, (err.code(), err.details())
    expected = reason if reason.startswith("ERROR_REASON_") else f"ERROR_REASON_{reason}"
    assert info.reason == expected, (info.reason, err.details())
    return dict(info.metadata)


def bad_request_fields(err: grpc.aio.AioRpcError) -> list[str]:
    """The fields named by the `BadRequest` detail of an error, if any."""
    return [
        violation.field
        for bad in details_of(err, error_details_pb2.BadRequest)
        for violation in bad.field_violations
    ]


def assert_invalid(err: grpc.aio.AioRpcError, field: str, reason: str = "FIELD_INVALID") -> None:
    """Asserts that an error is INVALID_ARGUMENT for `reason`, naming
    `field` (in its `BadRequest`)."""
    assert_reason(err, grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert field in bad_request_fields(err), (field, bad_request_fields(err), err.details())


class Gate:
    """Stands in for ``OnnxModel.embed``: records each batch and can hold the worker."""

    def __init__(self, embed: Callable[[Sequence[str]], npt.NDArray[np.float32]]) -> None:
        self._embed = embed
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.open = threading.Event()
        self.open.set()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.batches.append(list(texts))
        self.entered.set()
        self.open.wait(timeout=30)
        return self._embed(texts)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)


class Runner(Protocol):
    """A background-job runner: a loop until stopped."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


R = TypeVar("R", bound=Runner)


@contextlib.asynccontextmanager
async def started(runner: R) -> AsyncIterator[R]:
    """`runner` running as a task, stopped and its task ended (within 10 s)
    on exit."""
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        await runner.stop()
        await asyncio.wait_for(task, 10)


class FixedDefaults:
    """A `DefaultsSource` giving every namespace the same defaults."""

    def __init__(self, defaults: NamespaceDefaults) -> None:
        self.value = defaults

    async def defaults(self, ns: str) -> NamespaceDefaults:
        return self.value


@contextlib.asynccontextmanager
async def older_index(
    tmp_path: Path, binary: ServerBinary, dim: int, lacking: Sequence[str]
) -> AsyncIterator[RedisMux]:
    """A client of a Redis of its own (under `tmp_path`, running `binary`)
    whose memory index was made by an earlier version: the schema of
    `fields` (of `dim` values of the default vector type) without the fields
    named in `lacking`. Stopped on exit."""
    redis_server = EmbeddedRedis(tmp_path / "redis", port=0, binary=binary)
    await redis_server.astart()
    client = RedisMux(redis_server.url)
    try:
        wide = DEFAULT_VECTOR_TYPE
        old = [a for name, args in fields(dim, wide) if name not in lacking for a in args]
        create: list[Arg] = create_command(dim, wide)
        await client.execute(*create[: create.index("SCHEMA") + 1], *old)
        yield client
    finally:
        await client.aclose()
        await redis_server.astop()


async def indexed(client: RedisClient) -> None:
    """Waits (at most 10 s) for Search to have indexed every memory document
    (after an `FT.ALTER` adds fields to an index holding some), in every
    index (one per primary of a Redis Cluster)."""
    for _ in range(200):
        names = await client.keys_per_primary(INDEX)
        if not any([indexing(await client.execute("FT.INFO", name)) for name in names]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the index was still indexing after 10 s")


# The page of the framework adapters, whose examples the adapters' tests run.
INTEGRATIONS_DOC = Path(__file__).resolve().parent.parent / "docs" / "integrations.md"


def doc_examples(section: str, page: Path = INTEGRATIONS_DOC) -> list[str]:
    """The Python blocks of a `## ` section of a docs page, in order."""
    text = page.read_text()
    start = text.index(f"\n{section}\n")
    end = text.find("\n## ", start + len(section) + 1)
    return re.findall(r"```python\n(.*?)```", text[start : None if end < 0 else end], re.S)
