"""The error contract as a whole: every `ErrorReason` of the proto is one
the server gives and one a test asserts, and statuses the server makes in
its own plumbing (an internal error, an undecodable request) carry theirs.

Each test that reads an error through `support.error_info` also checks it
against error_reason.proto: the status code and exactly the metadata keys
documented for its reason.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from memrpc.server import MemrpcServer
from memrpc.store.working import WorkingStore
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1.error_reason_pb2 import ErrorReason
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub
from support import assert_reason, documented_reasons

pytestmark = pytest.mark.on_cluster

ROOT = Path(__file__).resolve().parent.parent
REASONS = [name for name in ErrorReason.keys() if name != "ERROR_REASON_UNSPECIFIED"]  # noqa: SIM118


def _sources(folder: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(folder.rglob("*.py")))


def test_every_reason_is_documented_with_its_code_and_metadata() -> None:
    assert sorted(documented_reasons()) == sorted(REASONS)


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_is_given_by_the_server(reason: str) -> None:
    assert reason in _sources(ROOT / "service" / "memrpc"), f"no server code gives {reason}"


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_is_asserted_by_a_test(reason: str) -> None:
    tests = _sources(ROOT / "tests")
    short = reason.removeprefix("ERROR_REASON_")
    assert f'"{reason}"' in tests or f'"{short}"' in tests, f"no test asserts {reason}"


async def test_an_internal_error_names_its_incident(
    wm: WorkingMemoryStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(WorkingStore, "get", broken)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await wm.GetSession(pb.GetSessionRequest(namespace="n", thread_id="t"))
    metadata = assert_reason(raised.value, grpc.StatusCode.INTERNAL, "INTERNAL")
    assert metadata["incident"] in (raised.value.details() or "")


async def test_undecodable_bytes_name_the_method(
    memrpc_server: MemrpcServer, channel: grpc.aio.Channel
) -> None:
    call = channel.unary_unary("/memrpc.v1.WorkingMemory/GetSession")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(b"\xff\xff\xff", timeout=10)
    metadata = assert_reason(raised.value, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_UNDECODABLE")
    assert metadata["method"] == "/memrpc.v1.WorkingMemory/GetSession"
