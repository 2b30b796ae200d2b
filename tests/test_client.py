"""The Python client (sync and async) and the README's agent-loop example."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from memrpc.client import (
    AsyncMemoryClient,
    ErrorReason,
    MemoryClient,
    error_info,
    error_metadata,
    error_reason,
)
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import namespace_settings_pb2 as nsp
from memrpc.v1 import working_memory_pb2 as wm

pytestmark = pytest.mark.on_cluster

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "agent_loop.py"


def load_example():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("agent_loop", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent_loop"] = module
    spec.loader.exec_module(module)
    return module


async def test_async_client_covers_an_agent_step(memrpc_server, ns):
    async with AsyncMemoryClient(f"127.0.0.1:{memrpc_server.port}", namespace=ns) as memory:
        assert await memory.get_session("t") is None
        session = await memory.update_session("t", goal="plan", metadata={"k": "v"}, user_id="u")
        assert (session.goal, session.version, dict(session.metadata)) == ("plan", 1, {"k": "v"})
        unchanged = await memory.update_session("t", scratchpad="notes")
        assert (unchanged.goal, unchanged.scratchpad) == ("plan", "notes")
        appended = await memory.append_turns("t", [("user", "hi"), ("assistant", "hello")])
        assert appended.turn_count == 2
        results = await memory.remember(
            "Alice is allergic to peanuts", ltm.MemoryInput(text="Alice is allergic to peanuts!")
        )
        assert [r.outcome for r in results] == [
            ltm.CREATE_OUTCOME_CREATED,
            ltm.CREATE_OUTCOME_DUPLICATE,
        ]
        matches = await memory.recall("Does Alice have food allergies?")
        assert [m.memory.text for m in matches] == ["Alice is allergic to peanuts"]

        tail = memory.tail(["t"], heartbeat_interval=0.2)
        first = await anext(tail)
        assert first.WhichOneof("message") == "checkpoint"
        ids = await memory.append_events(
            "t", [("tool_call", {"name": "search"}), ("blob", b"\x00")]
        )
        received = [await anext(tail) for _ in ids]
        assert [m.event.id for m in received] == ids
        assert received[0].event.json["name"] == "search"
        assert received[1].event.data == b"\x00"
        await tail.aclose()


async def test_get_context_returns_the_session_and_its_users_memories(memrpc_server, embedder, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    fact = "Alice prefers window seats"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        none = await memory.get_context("t", "Which seat does Alice like?")
        assert not none.HasField("session")
        assert list(none.matches) == []
        await memory.update_session("t", goal="book a flight", user_id="alice")
        await memory.append_turns("t", [("user", "hi"), ("assistant", "hello")])
        await memory.remember(
            ltm.MemoryInput(text=fact, user_id="alice"), ltm.MemoryInput(text=fact, user_id="bob")
        )
        by_text = await memory.get_context("t", "Which seat does Alice like?")
        assert by_text.session.goal == "book a flight"
        assert [t.content for t in by_text.session.turns] == ["hi", "hello"]
        assert [(m.memory.user_id, m.memory.text) for m in by_text.matches] == [("alice", fact)]
        assert list((await memory.get_context("t")).matches) == []
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await memory.get_context("t", [0.5, 0.5])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_metadata(err.value) == {"field": "vector.values"}

    vector = [float(x) for x in (await embedder.embed([fact]))[0]]

    def sync() -> wm.GetContextResponse:
        with MemoryClient(target, namespace=ns) as memory:
            bob = ltm.MemoryFilter(user_ids=["bob"])
            return memory.get_context("t", vector, filter=bob, limit=1, max_distance=0.01)

    by_vector = await asyncio.to_thread(sync)
    assert by_vector.session.user_id == "alice"
    assert [(m.memory.user_id, m.memory.text) for m in by_vector.matches] == [("bob", fact)]


async def test_the_namespaces_stub_reads_and_changes_settings(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        fresh = await memory.namespaces.GetNamespaceSettings(
            nsp.GetNamespaceSettingsRequest(namespace=ns)
        )
        assert fresh.settings.version == 0
        settings = nsp.NamespaceSettings(sessions=nsp.SessionDefaults(max_window_turns=5))
        await memory.namespaces.UpdateNamespaceSettings(
            nsp.UpdateNamespaceSettingsRequest(namespace=ns, settings=settings, expected_version=0)
        )

    def sync() -> nsp.GetNamespaceSettingsResponse:
        with MemoryClient(target, namespace=ns) as memory:
            request = nsp.GetNamespaceSettingsRequest(namespace=ns)
            return memory.namespaces.GetNamespaceSettings(request)  # type: ignore[no-any-return]

    read = await asyncio.to_thread(sync)
    assert (read.settings.version, read.effective.sessions.max_window_turns) == (1, 5)


async def test_append_events_with_a_request_id_appends_once(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        first = await memory.append_events("t", [("step", {"n": 1})], request_id="r1")
        again = await memory.append_events("t", [("step", {"n": 1})], request_id="r1")

    def sync_retry() -> list[str]:
        with MemoryClient(target, namespace=ns) as memory:
            return memory.append_events("t", [("step", {"n": 1})], request_id="r1")

    assert first == again == await asyncio.to_thread(sync_retry)
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        listed = await memory.events.ListEvents(ev.ListEventsRequest(namespace=ns, thread_id="t"))
    assert [e.id for e in listed.events] == first


async def test_sync_client_and_the_readme_example(memrpc_server, ns):
    example = load_example()
    target = f"127.0.0.1:{memrpc_server.port}"

    def run() -> list[str]:
        with MemoryClient(target, namespace=ns) as memory:
            replies = [
                example.agent_step(memory, "thread-1", "alice", "I am vegetarian"),
                example.agent_step(memory, "thread-1", "alice", "Can I eat meat?"),
            ]
            session = memory.get_session("thread-1")
            assert session is not None
            assert session.turn_count == 4
            assert session.goal == "help plan a trip"
            return replies

    first, second = await asyncio.to_thread(run)
    assert "nothing yet" in first
    assert "I am vegetarian" in second


def test_client_package_needs_no_server_dependencies():
    pyproject = (EXAMPLE.parents[1] / "clients" / "python" / "pyproject.toml").read_text()
    for heavy in ("redis", "numpy", "onnxruntime", "tokenizers"):
        assert heavy not in pyproject
    code = (
        "import sys, memrpc.client, memrpc.v1.event_log_pb2_grpc; "
        "print(sorted({'redis', 'numpy', 'onnxruntime'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_channel_options_reach_the_channel(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    tiny = [("grpc.max_receive_message_length", 8)]
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        await memory.update_session("t", goal="a goal longer than eight bytes")
    async with AsyncMemoryClient(target, namespace=ns, options=tiny) as memory:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await memory.get_session("t")
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

    def sync() -> grpc.StatusCode:
        with MemoryClient(target, namespace=ns, options=tiny) as memory:
            with pytest.raises(grpc.RpcError) as err:
                memory.get_session("t")
            return err.value.code()  # type: ignore[no-any-return]

    assert await asyncio.to_thread(sync) == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_append_turns_with_a_request_id_appends_once(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        first = await memory.append_turns("t", [("user", "hi")], request_id="r1")
        again = await memory.append_turns("t", [("user", "hi")], request_id="r1")
    assert not first.replayed
    assert again.replayed
    assert (again.event_ids, again.turn_count) == (first.event_ids, first.turn_count)


async def test_append_turns_records_the_threads_formation_choice(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        await memory.append_turns("t", [("user", "hi")], form_memories=False)
        await memory.append_turns("t", [("user", "again")])  # no choice: kept
        session = await memory.get_session("t")
    assert session is not None
    assert session.HasField("form_memories")
    assert not session.form_memories

    def sync() -> bool:
        with MemoryClient(target, namespace=ns) as memory:
            memory.append_turns("t", [("user", "on")], form_memories=True)
            session = memory.get_session("t")
            return session is not None and session.form_memories

    assert await asyncio.to_thread(sync)


async def test_remember_with_a_request_id_creates_once(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        [first] = await memory.remember("Alice likes tea", request_id="c1")
        [again] = await memory.remember("Alice likes tea", request_id="c1")

    def sync_retry() -> ltm.CreateMemoryResult:
        with MemoryClient(target, namespace=ns) as memory:
            [result] = memory.remember("Alice likes tea", request_id="c1")
            return result

    retried = await asyncio.to_thread(sync_retry)
    assert first.memory.id == again.memory.id == retried.memory.id
    assert {first.outcome, again.outcome, retried.outcome} == {ltm.CREATE_OUTCOME_CREATED}
    assert retried.memory.hit_count == 1


async def test_error_reason_and_metadata_of_a_failed_call(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        await memory.update_session("t", goal="plan")
        with pytest.raises(grpc.aio.AioRpcError) as stale:
            await memory.update_session("t", goal="again", expected_version=7)
    assert error_reason(stale.value) == ErrorReason.ERROR_REASON_VERSION_MISMATCH
    assert error_metadata(stale.value) == {"expectedVersion": "7", "currentVersion": "1"}

    def sync() -> grpc.RpcError:
        with MemoryClient(target, namespace=ns) as memory:
            with pytest.raises(grpc.RpcError) as missing:
                memory.working.DeleteSession(
                    wm.DeleteSessionRequest(namespace=ns, thread_id="gone", expected_version=3)
                )
            return missing.value

    missing = await asyncio.to_thread(sync)
    assert error_reason(missing) == ErrorReason.ERROR_REASON_VERSION_MISMATCH
    assert error_metadata(missing)["currentVersion"] == "0"


async def test_a_status_made_by_grpc_has_no_reason(memrpc_server, ns):
    target = f"127.0.0.1:{memrpc_server.port}"
    async with AsyncMemoryClient(target, namespace=ns) as memory:
        await memory.update_session("t", goal="a goal longer than eight bytes")
    tiny = [("grpc.max_receive_message_length", 8)]
    async with AsyncMemoryClient(target, namespace=ns, options=tiny) as memory:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await memory.get_session("t")
    assert error_info(err.value) is None
    assert error_reason(err.value) == ErrorReason.ERROR_REASON_UNSPECIFIED
    assert error_metadata(err.value) == {}


class _Failed(grpc.RpcError):
    """A failed call whose trailer holds the given ErrorInfo."""

    def __init__(self, info: error_details_pb2.ErrorInfo) -> None:
        detail = any_pb2.Any()
        detail.Pack(info)
        self._status = status_pb2.Status(code=3, details=[detail]).SerializeToString()

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return (("grpc-status-details-bin", self._status),)


def test_an_unknown_reason_or_another_domain_reads_as_unspecified():
    newer = error_details_pb2.ErrorInfo(
        reason="ERROR_REASON_FROM_A_NEWER_SERVER", domain="memrpc.dev", metadata={"k": "v"}
    )
    assert error_reason(_Failed(newer)) == ErrorReason.ERROR_REASON_UNSPECIFIED
    assert error_metadata(_Failed(newer)) == {"k": "v"}
    foreign = error_details_pb2.ErrorInfo(reason="ERROR_REASON_FIELD_INVALID", domain="x.dev")
    assert error_info(_Failed(foreign)) is None
    assert error_reason(_Failed(foreign)) == ErrorReason.ERROR_REASON_UNSPECIFIED
