"""The embedded valkey-server: startup, modules, persistence, addresses, supervision,
and the wait for a server loading its data; the genuine Redis started the same way."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from memrpc.embedded_redis import EmbeddedRedis, EmbeddedRedisError, ServerBinary
from memrpc.limits import HASH_MAX_LISTPACK_VALUE
from support import serve


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(tmp_path / "data")
    yield embedded
    embedded.stop()


def client(embedded: EmbeddedRedis) -> redis.Redis:
    return redis.Redis.from_url(embedded.url, decode_responses=True)


def test_starts_with_json_and_vector_search(server: EmbeddedRedis) -> None:
    server.start()
    socket_path = server.data_dir / "redis.sock"
    assert server.url == f"unix://{socket_path}"
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o700
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    assert server.is_running()
    assert server.pid is not None
    assert (server.data_dir / "valkey.log").read_text()
    r = client(server)
    assert r.ping()
    assert r.execute_command("FT._LIST") == []
    r.execute_command(
        "FT.CREATE", "idx", "ON", "JSON", "PREFIX", "1", "doc:", "SCHEMA",
        "$.v", "AS", "v", "VECTOR", "HNSW", "6", "TYPE", "FLOAT32", "DIM", "2",
        "DISTANCE_METRIC", "COSINE",
    )  # fmt: skip
    r.execute_command("JSON.SET", "doc:1", "$", '{"v": [1.0, 0.0]}')
    r.execute_command("JSON.SET", "doc:2", "$", '{"v": [0.0, 1.0]}')
    query = struct.pack("<2f", 0.1, 0.9)
    found = r.execute_command(
        "FT.SEARCH", "idx", "*=>[KNN 1 @v $q]", "PARAMS", "2", "q", query,
        "RETURN", "0", "DIALECT", "2",
    )  # fmt: skip
    assert [doc["id"] for doc in found["results"]] == ["doc:2"]  # redis-py 8 speaks RESP3


def test_the_genuine_redis_starts_with_both_modules_and_the_settings(
    tmp_path: Path, genuine_redis: ServerBinary
) -> None:
    with EmbeddedRedis(tmp_path, binary=genuine_redis) as embedded:
        r = client(embedded)
        assert re.fullmatch(r"7\.4\.\d+", r.info("server")["redis_version"])  # valkey says 7.2
        modules = {str(module["name"]): int(module["ver"]) for module in r.module_list()}
        assert modules.keys() >= {"search", "ReJSON"}
        assert modules["search"] >= 21000  # Search 2.10 has the FLOAT16 vectors memrpc stores
        assert r.config_get("hash-max-listpack-value") == {
            "hash-max-listpack-value": str(HASH_MAX_LISTPACK_VALUE)
        }
        assert set(r.config_get("lazyfree-lazy-*").values()) == {"no"}
    assert "Redis version=7.4" in (tmp_path / "redis.log").read_text()


def test_context_manager_starts_and_stops(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as embedded:
        assert client(embedded).ping()
    assert not embedded.is_running()
    assert embedded.pid is None
    assert not (tmp_path / "redis.sock").exists()


def test_data_survives_a_restart(server: EmbeddedRedis) -> None:
    server.start()
    r = client(server)
    r.set("plain", "value")
    r.execute_command("JSON.SET", "doc", "$", '{"a": {"b": [1, 2]}}')
    server.stop()
    assert not server.is_running()
    assert list((server.data_dir / "appendonlydir").iterdir())
    server.start()
    r = client(server)
    assert r.get("plain") == "value"
    assert r.execute_command("JSON.GET", "doc", "$.a.b") == "[[1,2]]"


def test_tcp_when_the_socket_path_is_too_long(tmp_path: Path) -> None:
    data_dir = tmp_path / ("d" * 100)
    embedded = EmbeddedRedis(data_dir)
    assert embedded.url.startswith("redis://127.0.0.1:")
    with embedded:
        assert client(embedded).ping()
        assert not (data_dir / "redis.sock").exists()


def test_tcp_when_port_zero_is_asked(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, port=0) as embedded:
        port = int(embedded.url.rsplit(":", 1)[1])
        assert port > 0
        assert redis.Redis(host="127.0.0.1", port=port).ping()
        assert not (tmp_path / "redis.sock").exists()


def test_stop_is_idempotent(server: EmbeddedRedis) -> None:
    server.stop()
    server.start()
    server.stop()
    server.stop()
    assert not server.is_running()


def test_stale_socket_does_not_block_a_start(server: EmbeddedRedis) -> None:
    server.start()
    server.kill()
    assert (server.data_dir / "redis.sock").exists()
    server.start()
    assert client(server).ping()


def test_refuses_a_data_dir_whose_server_is_running(server: EmbeddedRedis) -> None:
    server.start()
    with pytest.raises(EmbeddedRedisError, match="already listening"):
        EmbeddedRedis(server.data_dir).start()
    assert client(server).ping()


async def test_supervise_restarts_a_killed_server(
    server: EmbeddedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    await server.astart()
    r = redis.asyncio.Redis.from_url(server.url, decode_responses=True)
    await r.config_set("appendfsync", "always")  # the kill must not lose the write
    await r.set("key", "before the crash")
    await r.aclose()
    old_pid = server.pid
    restarted = asyncio.Event()
    supervisor = asyncio.create_task(server.supervise(on_restart=restarted.set))
    try:
        with caplog.at_level(logging.WARNING, logger="memrpc.embedded_redis"):
            server.kill()
            await asyncio.wait_for(restarted.wait(), timeout=10)
        assert server.is_running()
        assert server.pid != old_pid
        assert "exited with code" in caplog.text
        r = redis.asyncio.Redis.from_url(server.url, decode_responses=True)
        assert await r.get("key") == "before the crash"
        await r.aclose()

        await server.astop()  # an intended stop is not restarted
        await asyncio.sleep(0.5)
        assert not server.is_running()
    finally:
        supervisor.cancel()
        with pytest.raises(asyncio.CancelledError):
            await supervisor


def test_a_module_that_fails_to_load(server: EmbeddedRedis) -> None:
    server._module_paths = (server.data_dir / "missing.so",)
    with pytest.raises(EmbeddedRedisError, match=r"exited with code[\s\S]*missing\.so"):
        server.start()
    assert not server.is_running()


def test_a_missing_module(server: EmbeddedRedis) -> None:
    server._module_paths = server._module_paths[:1]
    with pytest.raises(EmbeddedRedisError, match="without module"):
        server.start()
    assert not server.is_running()


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        embedded = EmbeddedRedis(tmp_path, port=taken.getsockname()[1])
        with pytest.raises(EmbeddedRedisError, match=r"(?i)address already in use"):
            embedded.start()


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux-only")
def test_the_server_dies_with_its_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from memrpc.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(Path(sys.argv[1]))
        embedded.start()
        print(embedded.pid, flush=True)
        sys.stdin.read()
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    assert alive(pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(pid)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in {"Z", "X"}


# A server that loads each key of its data slowly, so that a test sees it
# loading: the key delay applies to the AOF's RDB base (after BGREWRITEAOF),
# and the server answers LOADING between every ~1 KB it reads.
SLOW_KEYS = 3000
KEY_LOAD_DELAY_US = 1000  # so the load takes more than 3 s


class SlowLoading(EmbeddedRedis):
    """An embedded server that sleeps `KEY_LOAD_DELAY_US` per key it loads."""

    def _args(self) -> list[str]:
        return [
            *super()._args(),
            "--key-load-delay", str(KEY_LOAD_DELAY_US),
            "--loading-process-events-interval-bytes", "1024",
        ]  # fmt: skip


def write_slow_data(embedded: EmbeddedRedis) -> None:
    """`SLOW_KEYS` keys into the running server's AOF base, which a start
    loads one key at a time."""
    r = client(embedded)
    pipe = r.pipeline(transaction=False)
    for i in range(SLOW_KEYS):
        pipe.set(f"k{i}", f"value {i}")
    pipe.execute()
    r.bgrewriteaof()
    for _ in range(500):  # bounded: 10 s
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.02)
    raise AssertionError("the AOF rewrite did not end within 10 s")


@pytest.fixture
def slow_data(tmp_path: Path) -> Path:
    """A data dir whose load takes more than 3 s."""
    with EmbeddedRedis(tmp_path / "slow") as embedded:
        write_slow_data(embedded)
    return embedded.data_dir


def test_a_start_shorter_than_the_load_says_it_is_still_loading(slow_data: Path) -> None:
    embedded = SlowLoading(slow_data, start_timeout=0.9)  # 3 windows: 2.7 s < 3 s
    with pytest.raises(EmbeddedRedisError) as raised:
        embedded.start()
    line = str(raised.value).splitlines()[0]
    assert re.fullmatch(
        r"embedded redis is still loading its data after \d+ s \(\d+% of 0\.\d MB loaded, "
        r"about \d+ s left at its rate\): raise --redis-start-timeout \(now 0\.9 s; a load "
        r"that advances gets up to 3 times that\); end of .*valkey\.log:",
        line,
    ), line
    assert not embedded.is_running()


def test_a_load_that_advances_gets_more_time_and_its_data_is_there(
    slow_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedded = SlowLoading(slow_data, start_timeout=2.0)  # 3 windows: 6 s > 3 s
    with caplog.at_level(logging.WARNING, logger="memrpc.embedded_redis"), embedded:
        r = client(embedded)
        assert r.dbsize() == SLOW_KEYS
        assert r.get(f"k{SLOW_KEYS - 1}") == f"value {SLOW_KEYS - 1}"
    assert "still loading its data after 2 s" in caplog.text
    assert "waiting up to 2 s more" in caplog.text


def test_a_server_not_answering_in_time_did_not_answer(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path, start_timeout=0)  # 0: one try, before it listens
    with pytest.raises(EmbeddedRedisError) as raised:
        embedded.start()
    line = str(raised.value).splitlines()[0]
    assert line.startswith("embedded redis did not answer within 0 s (--redis-start-timeout);")
    assert not embedded.is_running()


def test_serve_gives_its_embedded_redis_the_configured_time(tmp_path: Path) -> None:
    done = serve("--data-dir", str(tmp_path / "data"), "--redis-start-timeout", "0")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert (
        "memrpc serve: error: embedded redis did not answer within 0 s (--redis-start-timeout)"
        in done.stderr
    )


async def test_a_restart_waits_the_configured_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedded = SlowLoading(tmp_path, start_timeout=0.9)
    await embedded.astart()  # no data yet: quick
    await asyncio.to_thread(write_slow_data, embedded)
    supervisor = asyncio.create_task(embedded.supervise())
    try:
        with caplog.at_level(logging.WARNING, logger="memrpc.embedded_redis"):
            embedded.kill()
            for _ in range(200):  # bounded: 10 s
                if "restart failed" in caplog.text:
                    break
                await asyncio.sleep(0.05)
        assert "embedded redis restart failed: embedded redis is still loading" in caplog.text
        assert "raise --redis-start-timeout (now 0.9 s;" in caplog.text
    finally:
        supervisor.cancel()
        with pytest.raises(asyncio.CancelledError):
            await supervisor
        await embedded.astop()
