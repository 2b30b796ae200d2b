"""The multiplexed Redis connection: replies matched to their commands under
concurrency, errors, cancellation, reconnection (with backoff), the URL's
credentials and database, scripts reloaded after a flush, blocking reads kept
apart; a connection gone silent (`stall_proxy.py`) replaced after the command
timeout, blocking reads given their wait first; TCP keepalive."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
import redis.exceptions

from memrpc.embedded_redis import EmbeddedRedis
from memrpc.store import redis_mux, scripts
from memrpc.store.redis_errors import CommandTimeout
from memrpc.store.redis_mux import RedisAddress, RedisMux
from memrpc.store.script_args import EventsDeleteGroup
from stall_proxy import StallingProxy

pytestmark = pytest.mark.genuine_redis

# The command timeout of the stall tests: short, since they wait it out.
COMMAND_TIMEOUT_S = 0.5


async def test_concurrent_commands_get_their_own_replies(mux: RedisMux) -> None:
    values = [f"value-{i}".encode() * (i % 7 + 1) for i in range(2000)]
    replies = await asyncio.gather(*(mux.execute("ECHO", value) for value in values))
    assert replies == values


async def test_error_reply_raises_and_the_connection_stays_in_step(mux: RedisMux) -> None:
    key = f"test:mux:{uuid.uuid4().hex}"
    await mux.execute("SET", key, "text")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        await mux.execute("HGETALL", key)
    assert await mux.execute("GET", key) == b"text"
    await mux.execute("DEL", key)


async def test_a_cancelled_command_leaves_no_reply_behind(mux: RedisMux) -> None:
    key = f"test:mux:{uuid.uuid4().hex}"
    waiting = asyncio.ensure_future(mux.execute("BLPOP", key, "0.2"))
    await asyncio.sleep(0.05)
    waiting.cancel()
    # Sent after the BLPOP on the same connection: answered after it, and
    # with its own reply, not the BLPOP's.
    assert await mux.execute("ECHO", "after") == b"after"
    assert waiting.cancelled()


async def test_reconnects_after_the_connection_is_killed(
    mux: RedisMux, redis_client: redis.asyncio.Redis
) -> None:
    first_id = await mux.execute("CLIENT", "ID")
    await redis_client.execute_command("CLIENT", "KILL", "ID", first_id)  # type: ignore[no-untyped-call]
    failures = 0
    for _ in range(50):
        try:
            second_id = await mux.execute("CLIENT", "ID")
            break
        except redis.exceptions.ConnectionError:
            failures += 1
            await asyncio.sleep(0.02)
    else:
        pytest.fail("never reconnected")
    assert second_id != first_id
    assert failures <= 1


async def test_unreachable_redis_is_a_connection_error_retried_after_a_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(redis_mux, "RECONNECT_FIRST_S", 60.0)
    client = RedisMux(f"redis://127.0.0.1:{port}", connect_timeout=1.0)
    with pytest.raises(redis.exceptions.ConnectionError, match="cannot connect"):
        await client.execute("PING")
    # Within the backoff, no attempt: the last failure at once.
    with pytest.raises(redis.exceptions.ConnectionError, match="retrying soon"):
        await client.execute("PING")
    await client.aclose()


def test_address_from_urls() -> None:
    tcp = RedisAddress("redis://me:s%40cret@127.0.0.1:6390/3")
    assert (tcp.host, tcp.port, tcp.username, tcp.password, tcp.db) == (
        "127.0.0.1",
        6390,
        "me",
        "s@cret",
        3,
    )
    assert tcp.path is None
    assert tcp.tls is None
    unix = RedisAddress("unix:///tmp/redis.sock?db=2")
    assert (unix.path, unix.db, unix.password) == ("/tmp/redis.sock", 2, None)
    assert RedisAddress("rediss://127.0.0.1").tls is not None
    with pytest.raises(ValueError, match="scheme"):
        RedisAddress("http://127.0.0.1")


async def test_credentials_and_database_of_the_url_are_used(
    redis_server: EmbeddedRedis, redis_client: redis.asyncio.Redis
) -> None:
    user = f"mux-{uuid.uuid4().hex[:8]}"
    await redis_client.execute_command(  # type: ignore[no-untyped-call]
        "ACL", "SETUSER", user, "on", ">pa:ss", "~*", "+@all"
    )
    path = redis_server.url.removeprefix("unix://")
    client = RedisMux(f"unix://{user}:pa%3Ass@{path}?db=2")
    try:
        info = (await client.execute("CLIENT", "INFO")).decode()
        assert f"user={user}" in info
        assert " db=2 " in info
        wrong = RedisMux(f"unix://{user}:wrong@{path}")
        with pytest.raises(redis.exceptions.ResponseError, match="WRONGPASS"):
            await wrong.execute("PING")
        await wrong.aclose()
    finally:
        await client.aclose()
        await redis_client.execute_command("ACL", "DELUSER", user)  # type: ignore[no-untyped-call]


async def test_scripts_are_loaded_again_after_a_flush(mux: RedisMux) -> None:
    script = scripts.load(mux, EventsDeleteGroup)
    missing = EventsDeleteGroup(feed=f"test:mux:{uuid.uuid4().hex}", group="g")
    await mux.execute("SCRIPT", "FLUSH")
    assert await script(missing) == 0
    await mux.execute("SCRIPT", "FLUSH")
    assert await script(missing) == 0


async def test_blocking_reads_on_a_dedicated_connection_do_not_stall_others(
    mux: RedisMux,
) -> None:
    key = f"test:mux:{uuid.uuid4().hex}"
    async with mux.dedicated() as connection:
        reading = connection.execute("XREAD", "BLOCK", 5000, "STREAMS", key, "$")
        # The shared connection answers while the read blocks.
        for _ in range(10):
            assert await mux.execute("PING") == b"PONG"
        await mux.execute("XADD", key, "*", "f", "v")
        [[stream, [[_, fields]]]] = await asyncio.wait_for(reading, 5)
    assert (stream, fields) == (key.encode(), [b"f", b"v"])
    await mux.execute("DEL", key)


@pytest.fixture
async def proxy(redis_server: EmbeddedRedis) -> AsyncIterator[StallingProxy]:
    async with StallingProxy(redis_server.url) as stalling:
        yield stalling


async def test_a_silent_connection_is_replaced_after_the_command_timeout(
    proxy: StallingProxy,
) -> None:
    mux = RedisMux(proxy.url, command_timeout=COMMAND_TIMEOUT_S)
    try:
        first_id = await mux.execute("CLIENT", "ID")
        proxy.stall()
        # The oldest command times out; those behind it fail with it.
        replies = await asyncio.gather(
            *(mux.execute("ECHO", str(i)) for i in range(3)), return_exceptions=True
        )
        assert isinstance(replies[0], CommandTimeout), replies
        assert all(type(r) is redis.exceptions.ConnectionError for r in replies[1:]), replies
        # The next command goes through a new connection.
        assert await mux.execute("CLIENT", "ID") != first_id
        assert proxy.accepted == 2
    finally:
        await mux.aclose()


async def test_a_silent_connection_is_replaced_though_its_callers_gave_up(
    proxy: StallingProxy,
) -> None:
    mux = RedisMux(proxy.url, command_timeout=COMMAND_TIMEOUT_S)
    try:
        await mux.execute("PING")
        proxy.stall()
        # As the health check does: a PING given up after a while.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(mux.execute("PING"), COMMAND_TIMEOUT_S / 5)
        for _ in range(100):  # bounded: 10 s
            try:
                assert await asyncio.wait_for(mux.execute("PING"), 5) == b"PONG"
                break
            except (redis.exceptions.RedisError, TimeoutError):
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the silent connection was never replaced")
    finally:
        await mux.aclose()


async def test_a_blocking_read_waits_its_time_and_then_its_timeout_on_a_silent_connection(
    proxy: StallingProxy,
) -> None:
    mux = RedisMux(proxy.url, command_timeout=COMMAND_TIMEOUT_S)
    block_ms = int(COMMAND_TIMEOUT_S * 3 * 1000)
    read = ("XREAD", "BLOCK", block_ms, "STREAMS", f"test:mux:{uuid.uuid4().hex}", "$")
    try:
        async with mux.dedicated() as connection:
            # Longer than the command timeout, and no reply until its end.
            assert await connection.execute(*read, wait=block_ms / 1000) is None
            proxy.stall()
            with pytest.raises(CommandTimeout):
                await connection.execute(*read, wait=block_ms / 1000)
            assert not connection.usable
    finally:
        await mux.aclose()


async def test_tcp_connections_have_keepalive(proxy: StallingProxy) -> None:
    mux = RedisMux(proxy.url)
    try:
        async with mux.dedicated() as connection:
            sock = connection._protocol._transport.get_extra_info("socket")  # type: ignore[union-attr]
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
            assert idle == redis_mux.KEEPALIVE_IDLE_S
    finally:
        await mux.aclose()
