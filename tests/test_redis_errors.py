"""Typed Redis errors: each error reply becomes the class of its exact code,
whether a command or a Lua script's `redis.call` raised it, and the API maps
the classes (never the text) to statuses.

Codes the real Redis gives on demand are provoked there; the ones it gives
only when loading, stuck in a script or part of a cluster come from a
loopback server that answers every command with the error it is asked for.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import hiredis
import pytest
import redis.exceptions

from memrpc.rpc.errors import as_api_error
from memrpc.store import scripts
from memrpc.store.redis_errors import (
    CODES,
    BusyGroupError,
    BusyScriptError,
    IndexExistsError,
    MovedError,
    NoGroupError,
    NoScriptError,
    OutOfMemoryError,
    RedisUnavailable,
    classify,
)
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import EventsReceive

pytestmark = pytest.mark.genuine_redis

TRANSIENT = {"LOADING", "BUSY", "OOM", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}
# A well-formed reply for each code (redirections carry a slot and address).
SAMPLE = {code: f"{code} something went wrong" for code in CODES} | {
    "MOVED": "MOVED 3999 127.0.0.1:6381",
    "ASK": "ASK 3999 127.0.0.1:6381",
}


@pytest.fixture
async def error_server() -> AsyncIterator[RedisMux]:
    """A client of a loopback server that answers `FAIL <reply>` with the
    error reply `-<reply>` and any other command with `+OK`."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = hiredis.Reader()
        while data := await reader.read(65536):
            parser.feed(data)
            while (command := parser.gets()) is not False:
                failing = command[0].upper() == b"FAIL"
                writer.write(b"-" + command[1] + b"\r\n" if failing else b"+OK\r\n")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RedisMux(f"redis://127.0.0.1:{port}")
    try:
        yield client
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_code_has_its_class(code: str) -> None:
    error = classify(SAMPLE[code])
    assert type(error) is CODES[code]
    assert isinstance(error, redis.exceptions.RedisError)
    assert error.status_code == code
    assert str(error) == SAMPLE[code]
    assert isinstance(error, RedisUnavailable) == (code in TRANSIENT)


def test_busygroup_is_not_busy_and_unknown_codes_are_generic() -> None:
    assert type(classify("BUSYGROUP Consumer Group name already exists")) is BusyGroupError
    assert type(classify("BUSY Redis is busy running a script")) is BusyScriptError
    for reply in ("BUSYX whatever", "ERR unknown command", "WRONGTYPE Operation", "OOMX"):
        assert type(classify(reply)) is redis.exceptions.ResponseError, reply


def test_redirections_carry_slot_and_address() -> None:
    moved = classify(SAMPLE["MOVED"])
    assert isinstance(moved, MovedError)
    assert (moved.slot_id, moved.host, moved.port) == (3999, "127.0.0.1", 6381)
    assert isinstance(moved, redis.exceptions.MovedError)
    # A malformed one is still an error, just not a typed redirection.
    assert type(classify("MOVED nonsense")) is redis.exceptions.ResponseError


def test_redis_py_classes_still_catch_the_typed_errors() -> None:
    assert isinstance(classify("NOSCRIPT No matching script."), redis.exceptions.NoScriptError)
    assert isinstance(classify("LOADING loading"), redis.exceptions.BusyLoadingError)
    assert isinstance(classify("OOM command not allowed"), redis.exceptions.OutOfMemoryError)


async def test_noscript(mux: RedisMux) -> None:
    with pytest.raises(NoScriptError):
        await mux.execute("EVALSHA", "0" * 40, 0)


async def test_busygroup_and_nogroup(mux: RedisMux) -> None:
    feed = f"test:errors:{uuid.uuid4().hex}"
    await mux.execute("XGROUP", "CREATE", feed, "g", "$", "MKSTREAM")
    with pytest.raises(BusyGroupError):
        await mux.execute("XGROUP", "CREATE", feed, "g", "$", "MKSTREAM")
    with pytest.raises(NoGroupError):
        await mux.execute("XREADGROUP", "GROUP", "missing", "c", "STREAMS", feed, ">")
    await mux.execute("DEL", feed)


async def test_a_code_raised_inside_a_script_keeps_its_class(mux: RedisMux) -> None:
    receive = scripts.load(mux, EventsReceive)
    feed = f"test:errors:{uuid.uuid4().hex}"
    call = EventsReceive(
        feed=feed,
        group="missing",
        consumer="consumer",
        min_idle_ms=1000,
        count=10,
        max_bytes=65536,
        steps=10,
        claim_cursor="0-0",
    )
    with pytest.raises(NoGroupError, match="script"):
        await receive(call)


async def test_wrongtype_and_script_errors_are_generic(mux: RedisMux) -> None:
    key = f"test:errors:{uuid.uuid4().hex}"
    await mux.execute("SET", key, "text")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE") as wrongtype:
        await mux.execute("HGET", key, "field")
    with pytest.raises(redis.exceptions.ResponseError, match="boom") as raised:
        await mux.execute("EVAL", "error('boom')", 0)
    for error in (wrongtype.value, raised.value):
        assert type(error) is redis.exceptions.ResponseError
    await mux.execute("DEL", key)


async def test_out_of_memory_inside_a_script(mux: RedisMux) -> None:
    _, policy = await mux.execute("CONFIG", "GET", "maxmemory-policy")
    if policy != b"noeviction":
        pytest.skip("maxmemory 1 would evict the other tests' data")
    _, limit = await mux.execute("CONFIG", "GET", "maxmemory")
    key = f"test:errors:{uuid.uuid4().hex}"
    await mux.execute("CONFIG", "SET", "maxmemory", 1)
    try:
        with pytest.raises(OutOfMemoryError, match="script"):
            await mux.execute("EVAL", "return redis.call('SET', KEYS[1], 'v')", 1, key)
    finally:
        await mux.execute("CONFIG", "SET", "maxmemory", limit)


async def test_existing_search_index(mux: RedisMux) -> None:
    index = f"test:errors:{uuid.uuid4().hex}"
    create = ("FT.CREATE", index, "ON", "HASH", "PREFIX", 1, index, "SCHEMA", "f", "TAG")
    await mux.execute(*create)
    with pytest.raises(IndexExistsError):
        await mux.execute(*create)
    await mux.execute("FT.DROPINDEX", index)


@pytest.mark.parametrize("code", sorted(TRANSIENT))
async def test_codes_redis_gives_only_when_in_trouble(error_server: RedisMux, code: str) -> None:
    with pytest.raises(CODES[code]) as raised:
        await error_server.execute("FAIL", SAMPLE[code])
    assert isinstance(raised.value, RedisUnavailable)
    # The connection stays in step (a LOADING error, a ConnectionError in
    # redis-py, does not drop it).
    assert await error_server.execute("PING") == b"OK"


@pytest.mark.parametrize("code", sorted(CODES))
def test_the_api_maps_each_class_to_its_status(code: str) -> None:
    error = as_api_error(classify(SAMPLE[code]))
    if code in TRANSIENT:
        assert error.code == grpc.StatusCode.UNAVAILABLE
        assert error.reason_name == "ERROR_REASON_REDIS_UNAVAILABLE"
        assert "retry later" in error.message
        assert SAMPLE[code] in error.message
    else:
        assert error.code == grpc.StatusCode.INTERNAL
        assert error.reason_name == "ERROR_REASON_INTERNAL"
        assert SAMPLE[code] not in error.message


def test_the_api_maps_lost_connections_and_generic_errors() -> None:
    lost = as_api_error(redis.exceptions.ConnectionError("connection to Redis lost"))
    assert lost.code == grpc.StatusCode.UNAVAILABLE
    generic = as_api_error(classify("ERR something"))
    assert generic.code == grpc.StatusCode.INTERNAL
