"""Server reflection as the tools use it: grpcurl and ghz, built from the Go
module proxy (tools/build-grpc-tools, cached in .tools/), against a live
server on loopback, through reflection alone (no .proto files); and the two
reflection protocols, grpc.reflection.v1 and v1alpha, asked directly by a
Python client. Every method and message of every memrpc service is
described, enumerated from the Python descriptors, so a new RPC is covered
without touching this file. Without Go the grpcurl and ghz tests skip
loudly (fail under MEMRPC_REQUIRE_ALL_LANGS=1)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as v1alpha_grpc

from cli_tools import BUILD_TIMEOUT_S, GHZ_CALLS, address, ghz_report, grpcurl_call, run
from conftest import make_settings, running
from memrpc.grpc_reflection.v1 import reflection_pb2 as v1_pb2
from memrpc.grpc_reflection.v1 import reflection_pb2_grpc as v1_grpc
from memrpc.reflection import V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME
from memrpc.server import SERVICE_NAMES

CONCURRENCY = 4  # grpcurl processes at once
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 180)

EVERY_SERVICE = {*SERVICE_NAMES, health.SERVICE_NAME, V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME}


def _messages(found: descriptor.Descriptor) -> Iterator[str]:
    yield found.full_name
    for nested in found.nested_types:
        if not nested.GetOptions().map_entry:
            yield from _messages(nested)


def memrpc_symbols() -> dict[str, str]:
    """Every service, method, message (nested ones too) and enum of the
    memrpc files the services are in, and of those they import, with what
    grpcurl calls each ("service", "method", "message", "enum")."""
    pool = descriptor_pool.Default()
    files: dict[str, descriptor.FileDescriptor] = {}
    pending = [pool.FindServiceByName(name).file for name in SERVICE_NAMES]
    while pending:
        file = pending.pop()
        if file.name in files or file.package != "memrpc.v1":
            continue
        files[file.name] = file
        pending.extend(file.dependencies)
    symbols: dict[str, str] = {}
    for file in files.values():
        for service in file.services_by_name.values():
            symbols[service.full_name] = "service"
            for method in service.methods:
                symbols[method.full_name] = "method"
        for message in file.message_types_by_name.values():
            symbols.update(dict.fromkeys(_messages(message), "message"))
            for nested_enum in message.enum_types:
                symbols[nested_enum.full_name] = "enum"
        for enum in file.enum_types_by_name.values():
            symbols[enum.full_name] = "enum"
    return symbols


async def test_grpcurl_lists_every_service(grpc_cli, memrpc_server):
    listed = await run(grpc_cli.grpcurl, "-plaintext", address(memrpc_server), "list")
    assert set(listed.stdout.split()) == EVERY_SERVICE


async def test_grpcurl_lists_each_services_methods(grpc_cli, memrpc_server):
    pool = descriptor_pool.Default()
    for name in SERVICE_NAMES:
        listed = await run(grpc_cli.grpcurl, "-plaintext", address(memrpc_server), "list", name)
        methods = {method.full_name for method in pool.FindServiceByName(name).methods}
        assert set(listed.stdout.split()) == methods


async def test_grpcurl_describes_every_method_and_message(grpc_cli, memrpc_server):
    symbols = memrpc_symbols()
    # Every method of every service, and a message of each file, at least.
    assert sum(kind == "method" for kind in symbols.values()) >= len(SERVICE_NAMES) * 2
    assert "memrpc.v1.WorkingMemory.GetSession" in symbols
    limit = asyncio.Semaphore(CONCURRENCY)

    async def describe(symbol: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        async with limit:
            args = (grpc_cli.grpcurl, "-plaintext", address(memrpc_server), "describe", symbol)
            return symbol, await run(*args, check=False)

    results = await asyncio.gather(*(describe(symbol) for symbol in symbols))
    failed = {symbol: r.stdout + r.stderr for symbol, r in results if r.returncode != 0}
    assert not failed, f"grpcurl describe failed for {len(failed)} symbols: {failed}"
    pool = descriptor_pool.Default()
    for symbol, result in results:
        kind = symbols[symbol]
        article = "an" if kind == "enum" else "a"
        assert result.stdout.startswith(f"{symbol} is {article} {kind}:"), result.stdout
        if kind == "method":
            method = pool.FindMethodByName(symbol)
            assert f".{method.input_type.full_name} )" in result.stdout
            assert f".{method.output_type.full_name} )" in result.stdout


async def test_grpcurl_calls_through_reflection(grpc_cli, memrpc_server, ns):
    target = address(memrpc_server)
    session = {"goal": "plan a trip"}
    body = {"namespace": ns, "thread_id": "t1", "session": session}
    await grpcurl_call(grpc_cli, target, "memrpc.v1.WorkingMemory/UpdateSession", body)
    body = {"namespace": ns, "thread_id": "t1"}
    got = await grpcurl_call(grpc_cli, target, "memrpc.v1.WorkingMemory/GetSession", body)
    assert (got["session"]["namespace"], got["session"]["threadId"]) == (ns, "t1")
    assert got["session"]["goal"] == "plan a trip"


async def test_ghz_through_reflection(grpc_cli, memrpc_server, ns):
    target = address(memrpc_server)
    body = {"namespace": ns, "thread_id": "t1", "session": {"goal": "g"}}
    await grpcurl_call(grpc_cli, target, "memrpc.v1.WorkingMemory/UpdateSession", body)
    get = json.dumps({"namespace": ns, "thread_id": "t1"})
    report = await ghz_report(
        grpc_cli, "--call", "memrpc.v1.WorkingMemory.GetSession", "-d", get, target
    )
    assert report["count"] == GHZ_CALLS
    assert report["statusCodeDistribution"] == {"OK": GHZ_CALLS}, report
    assert not report.get("errorDistribution"), report


async def test_ghz_with_the_protos_and_their_proto3_optionals(grpc_cli, memrpc_server, ns):
    """ghz --proto parses proto/ itself, proto3 `optional` fields included
    (namespace_settings.proto has them; issue 19 saw an older ghz refuse them)."""
    report = await ghz_report(
        grpc_cli,
        "--proto",
        "proto/memrpc/v1/namespace_settings.proto",
        "-i",
        "proto,.tools/googleapis",
        "--call",
        "memrpc.v1.Namespaces.GetNamespaceSettings",
        "-d",
        json.dumps({"namespace": ns}),
        address(memrpc_server),
    )
    assert report["statusCodeDistribution"] == {"OK": GHZ_CALLS}, report


# The two reflection protocols, asked directly.

VERSIONS = {
    "v1": (v1_pb2, v1_grpc.ServerReflectionStub),
    "v1alpha": (v1alpha_pb2, v1alpha_grpc.ServerReflectionStub),
}


async def ask(channel: grpc.aio.Channel, version: str, requests: list[Any]) -> list[Any]:
    """The answers of one reflection stream of `version` to `requests`."""
    _, stub = VERSIONS[version]

    async def each() -> AsyncIterator[Any]:
        for request in requests:
            yield request

    call = stub(channel).ServerReflectionInfo(each(), timeout=10)
    return [answer async for answer in call]


def files_of(answer: Any) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    found = answer.file_descriptor_response.file_descriptor_proto
    files = (descriptor_pb2.FileDescriptorProto.FromString(each) for each in found)
    return {file.name: file for file in files}


@pytest.mark.parametrize("version", sorted(VERSIONS))
async def test_each_reflection_version_answers(channel, version):
    messages, _ = VERSIONS[version]
    request = messages.ServerReflectionRequest
    requests = [
        request(list_services=""),
        request(file_containing_symbol="memrpc.v1.WorkingMemory.GetSession"),
        request(file_containing_symbol="memrpc.v1.EventLog"),
        request(file_containing_symbol="memrpc.v1.GetSessionRequest"),
        request(file_by_filename="memrpc/v1/long_term_memory.proto"),
        request(file_containing_symbol="memrpc.v1.WorkingMemory.NoSuchMethod"),
        request(file_containing_symbol="memrpc.v1.NoSuchService.GetSession"),
    ]
    answers = await ask(channel, version, requests)
    assert len(answers) == len(requests)
    for sent, answer in zip(requests, answers, strict=True):
        assert isinstance(answer, messages.ServerReflectionResponse)
        assert answer.original_request == sent  # the request as sent, method symbol too
    listed, method, service, message, by_name, no_method, no_service = answers
    assert {each.name for each in listed.list_services_response.service} == EVERY_SERVICE
    # A method's file, with every file it imports (as grpcurl needs them).
    assert {
        "memrpc/v1/working_memory.proto",
        "memrpc/v1/long_term_memory.proto",
        "google/api/field_behavior.proto",
        "google/protobuf/timestamp.proto",
    } <= files_of(method).keys()
    get_session = files_of(method)["memrpc/v1/working_memory.proto"]
    methods = {m.name for s in get_session.service for m in s.method}
    assert "GetSession" in methods
    assert "memrpc/v1/event_log.proto" in files_of(service)
    assert "memrpc/v1/working_memory.proto" in files_of(message)
    assert "memrpc/v1/long_term_memory.proto" in files_of(by_name)
    for missing in (no_method, no_service):
        assert missing.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


async def test_both_versions_answer_the_same_bytes(channel):
    symbols = ["memrpc.v1.LongTermMemory.SearchMemories", "grpc.reflection.v1.ServerReflection"]
    answers = {}
    for version, (messages, _) in VERSIONS.items():
        requests = [messages.ServerReflectionRequest(file_containing_symbol=s) for s in symbols]
        answers[version] = [
            each.SerializeToString() for each in await ask(channel, version, requests)
        ]
    assert answers["v1"] == answers["v1alpha"]


async def test_reflection_off_turns_both_versions_off(grpc_cli, redis_server, embedder):
    settings = make_settings(redis_server.url, reflection=False)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(address(server)) as channel,
    ):
        for version, (messages, _) in VERSIONS.items():
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await ask(channel, version, [messages.ServerReflectionRequest(list_services="")])
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED, version
        listed = await run(grpc_cli.grpcurl, "-plaintext", address(server), "list", check=False)
        assert listed.returncode != 0
        assert "does not support the reflection API" in listed.stderr
