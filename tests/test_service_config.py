"""The published gRPC service config, clients/service-config.json (gRFC A6):
it names only methods of the proto, retries only the idempotent reads and only
on UNAVAILABLE, gRPC takes it, and with it a read that fails once with
UNAVAILABLE succeeds transparently while a write is not retried. The live
checks run against a tiny in-process server on a loopback port that fails
on purpose, so they are deterministic and bounded."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from memrpc.client import SERVICE_CONFIG, MemoryClient
from memrpc.v1 import (
    checkpoints_pb2,
    event_log_pb2,
    long_term_memory_pb2,
    namespace_settings_pb2,
    working_memory_pb2,
    working_memory_pb2_grpc,
)
from support import ROOT

CONFIG_TEXT = (ROOT / "clients" / "service-config.json").read_text("utf-8")
CONFIG: dict[str, Any] = json.loads(CONFIG_TEXT)

# The methods that only read: retrying them blindly is safe. Every other
# method writes (AppendTurns, AppendEvents and CreateMemories are safe to
# retry only with the same request_id, which is the application's job) or
# streams (TailEvents). The one list of them; the config must name exactly
# these.
IDEMPOTENT = frozenset(
    {
        "memrpc.v1.WorkingMemory/GetSession",
        "memrpc.v1.WorkingMemory/ListSessions",
        "memrpc.v1.WorkingMemory/GetContext",
        "memrpc.v1.LongTermMemory/GetMemory",
        "memrpc.v1.LongTermMemory/SearchMemories",
        "memrpc.v1.LongTermMemory/ListMemories",
        "memrpc.v1.EventLog/ListEvents",
        "memrpc.v1.Namespaces/GetNamespaceSettings",
        "memrpc.v1.Checkpoints/GetCheckpoint",
        "memrpc.v1.Checkpoints/ListCheckpoints",
    }
)


def proto_methods() -> dict[str, Any]:
    """Every method of the memrpc services: full name -> descriptor."""
    return {
        f"{service.full_name}/{method.name}": method
        for module in (
            working_memory_pb2,
            long_term_memory_pb2,
            event_log_pb2,
            namespace_settings_pb2,
            checkpoints_pb2,
        )
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }


def configured_methods() -> set[str]:
    names: set[str] = set()
    for method_config in CONFIG["methodConfig"]:
        for name in method_config["name"]:
            assert set(name) == {"service", "method"}, f"a whole service is configured: {name}"
            names.add(f"{name['service']}/{name['method']}")
    return names


def test_the_config_names_methods_of_the_proto() -> None:
    methods = proto_methods()
    assert configured_methods() <= set(methods)
    assert set(methods) >= IDEMPOTENT


def test_only_the_idempotent_unary_reads_are_retried_on_unavailable() -> None:
    assert configured_methods() == IDEMPOTENT
    methods = proto_methods()
    for name in IDEMPOTENT:
        assert not methods[name].client_streaming, name
        assert not methods[name].server_streaming, name
    for method_config in CONFIG["methodConfig"]:
        assert method_config["waitForReady"] is False
        policy = method_config["retryPolicy"]
        assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
        assert 2 <= policy["maxAttempts"] <= 5  # gRPC caps attempts at 5


def test_the_python_client_ships_the_same_config() -> None:
    assert json.loads(SERVICE_CONFIG) == CONFIG


class Flaky(working_memory_pb2_grpc.WorkingMemoryServicer):
    """Fails the first GetSession and every AppendTurns with UNAVAILABLE."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def GetSession(
        self, request: working_memory_pb2.GetSessionRequest, context: grpc.ServicerContext
    ) -> working_memory_pb2.GetSessionResponse:
        self.calls["GetSession"] += 1
        if self.calls["GetSession"] == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "failing once on purpose")
        session = working_memory_pb2.Session(thread_id=request.thread_id)
        return working_memory_pb2.GetSessionResponse(session=session)

    def AppendTurns(
        self, request: working_memory_pb2.AppendTurnsRequest, context: grpc.ServicerContext
    ) -> working_memory_pb2.AppendTurnsResponse:
        self.calls["AppendTurns"] += 1
        context.abort(grpc.StatusCode.UNAVAILABLE, "failing on purpose")


@pytest.fixture
def flaky() -> Iterator[tuple[Flaky, str]]:
    """A Flaky server on a free loopback port, and its address."""
    servicer = Flaky()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    working_memory_pb2_grpc.add_WorkingMemoryServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def get_session(target: str, config: str) -> working_memory_pb2.GetSessionResponse:
    with grpc.insecure_channel(target, options=[("grpc.service_config", config)]) as channel:
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        request = working_memory_pb2.GetSessionRequest(namespace="ns", thread_id="t")
        response: working_memory_pb2.GetSessionResponse = stub.GetSession(request, timeout=10)
        return response


def test_grpc_retries_a_read_after_unavailable(flaky: tuple[Flaky, str]) -> None:
    servicer, target = flaky
    assert get_session(target, CONFIG_TEXT).session.thread_id == "t"
    assert servicer.calls["GetSession"] == 2


def test_without_the_config_the_read_fails(flaky: tuple[Flaky, str]) -> None:
    servicer, target = flaky
    with pytest.raises(grpc.RpcError) as failed:
        get_session(target, "{}")
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["GetSession"] == 1


def test_grpc_refuses_a_malformed_config(flaky: tuple[Flaky, str]) -> None:
    """The control for the tests above: gRPC does check the config it gets."""
    _, target = flaky
    broken = json.loads(CONFIG_TEXT)
    broken["methodConfig"][0]["retryPolicy"]["maxAttempts"] = "many"
    with pytest.raises(grpc.RpcError):
        get_session(target, json.dumps(broken))


def test_the_python_client_retries_reads_and_not_writes(flaky: tuple[Flaky, str]) -> None:
    servicer, target = flaky
    with MemoryClient(target, namespace="ns") as memory:
        session = memory.get_session("t")
        assert session is not None
        assert session.thread_id == "t"
        assert servicer.calls["GetSession"] == 2
        with pytest.raises(grpc.RpcError) as failed:
            memory.append_turns("t", [("user", "hi")])
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        assert servicer.calls["AppendTurns"] == 1
