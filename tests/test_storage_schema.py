"""The storage schema record (`store/storage_schema.py`): the first start on
a Redis records its schema, later ones read it, and a server or worker that
finds another schema (or a record that is none) exits with one line and
status 2 before it touches the memories. Each test owns its Redis."""

from __future__ import annotations

import asyncio

import pytest

from memrpc.embedded_redis import EmbeddedRedis
from memrpc.schema_check import DOCS
from memrpc.store import keys, storage_schema
from memrpc.store.memory_document import SCHEMA
from memrpc.store.redis_mux import RedisMux
from support import last_line, memrpc_exits

pytestmark = pytest.mark.genuine_redis


async def test_the_first_claim_records_the_schema_and_later_ones_read_it(
    own_redis: EmbeddedRedis,
) -> None:
    mux = RedisMux(own_redis.url)
    try:
        await storage_schema.claim(mux)
        assert await mux.execute("GET", keys.storage_schema()) == str(SCHEMA).encode()
        await storage_schema.claim(mux)
        assert await mux.execute("GET", keys.storage_schema()) == str(SCHEMA).encode()
    finally:
        await mux.aclose()


COMMANDS = {
    "serve --workers 2": ("serve", "--listen", "127.0.0.1:0", "--workers", "2"),
    "worker": ("worker",),
}


@pytest.mark.parametrize(
    ("command", "record", "says"),
    [
        (
            "serve --workers 2",
            str(SCHEMA + 1),
            f"holds memories of storage schema {SCHEMA + 1}, which this memrpc (schema "
            f"{SCHEMA}) cannot read: run the memrpc release that wrote them, or a later one",
        ),
        (
            "worker",
            "3",
            "holds memories of storage schema 3, which this memrpc (schema "
            f"{SCHEMA}) does not convert: only unreleased development builds wrote it; run the "
            "build that wrote them, or start on a Redis without memrpc's memories",
        ),
        (
            "worker",
            "three",
            ": the storage schema record is not a number; set it to the schema of the "
            "memories there",
        ),
    ],
)
async def test_a_start_on_a_schema_it_cannot_read_is_refused_in_one_line(
    own_redis: EmbeddedRedis, command: str, record: str, says: str
) -> None:
    mux = RedisMux(own_redis.url)
    try:
        await mux.execute("SET", keys.storage_schema(), record)
        done = await asyncio.to_thread(
            memrpc_exits,
            *COMMANDS[command],
            "--redis-url",
            own_redis.url,
            "--redis-start-timeout",
            "0",
        )
        assert done.returncode == 2, done.stderr
        program = COMMANDS[command][0]
        assert last_line(done.stderr) == (
            f"memrpc {program}: error: Redis at {own_redis.url}{' ' if says[0] != ':' else ''}"
            f"{says} ({DOCS}) (see memrpc {program} --help)"
        )
        assert done.stderr.count("storage schema") == 1  # said once, not by each worker
        # Refused before the index, the record as it was.
        assert await mux.execute("FT._LIST") == []
        assert await mux.execute("GET", keys.storage_schema()) == record.encode()
    finally:
        await mux.aclose()
