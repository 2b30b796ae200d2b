"""The one converter of storage schema 2 to 3 (`memory_upgrade` of
`lua/lib/memory.lua`, run by `lua/memory_upgrade.lua`): a JSON document as
the old version wrote it becomes the Hash of `memory_document.py`'s table,
field by field, its expiry kept, its embedding packed bit for bit as numpy
packs it (FLOAT32, and FLOAT16 rounded to nearest even); a Hash or a
missing key is left as it is; documents of older versions, without the
optional fields, read back with their defaults."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from memrpc.store import keys, memory_document, scripts
from memrpc.store.memory_document import READ_FIELDS, VectorType
from memrpc.store.memory_index import Flag, Kind, index_fields
from memrpc.store.redis_errors import UnreadableMemoryError
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import MemoryUpgrade
from schema2_documents import document, dumps, write

pytestmark = pytest.mark.genuine_redis

DIM = 384
NOW = 1_700_000_000_000
DAY = 86_400_000
# Ten years after `NOW`: an expiry still ahead.
LATER = NOW + 3650 * DAY
MEMORY_ID = "01J0000000000000000000000A"
# What the old version's `long_term.document()` returned for this memory
# (run with commit fafb991's memrpc), before its script added `$.seq`.
OLD_DOCUMENT = (
    '{"memory":{"id":"01J0000000000000000000000A","namespace":"ns1","user_id":"ada",'
    '"kind":"episodic","thread_id":"t1","topics":["drinks","Jörg"],'
    '"text":"Ada likes tea / coffee \\"strong\\"","metadata":{"room":"kitchen","ü":"x"},'
    '"create_ms":1700000000000,"update_ms":1700000000000,"expire_ms":1700000060000,'
    '"hit_count":1,"version":1,"source":"client","source_event_ids":[],"start_ms":0,'
    '"end_ms":0,"pinned":true,"access_count":0,"last_access_ms":0,"merged_ids":[],'
    '"superseded_by":"","event_ms":1600000000000},"tags":{"ns":"6e7331",'
    '"scope":"6e7331x616461x657069736f646963","user":"616461","thread":"7431",'
    '"kind":"657069736f646963","topics":["6472696e6b73","4ac3b67267"],'
    '"text":"21fcc41072d1e2d1c8d39cad7e175768","flags":["pinned"],'
    '"meta":["b39d3b68db0d64dd6e87278f8943e1e5","acc2b1ee0d3e3ba5ec412312ef9c9750"]},'
    '"live_until":1700000060000,"recalled_ms":1700000000000,'
    '"embedding":[0.5,-0,9.99999994e-09,-0.25]}'
)
# Values a float32 to float16 rounding must get right: zeros, float32 and
# float16 subnormals, ties (to even) in both ranges, the largest half and
# what rounds past it (infinity), the largest float32.
EDGES = [
    0.0, -0.0, 1e-45, -1e-45, 1e-40, 2.0**-24, 2.0**-25, 3 * 2.0**-25, 5 * 2.0**-25,
    2.0**-14, 2.0**-14 - 2.0**-24, 2.0**-14 - 2.0**-25, 6e-5, 1.0, 1 + 2.0**-11,
    1 + 3 * 2.0**-11, -(1 + 3 * 2.0**-11), 2049.0, 2051.0, 65504.0, 65519.0, 65520.0,
    -65520.0, 1e5, 3.4028235e38, -3.4028235e38, 0.1, -0.3333,
]  # fmt: skip


def vectors(seed: int) -> npt.NDArray[np.float32]:
    """The edge values, then random values over every magnitude a float16
    holds and beyond (1e-9 to 1e6), signs mixed: one vector of `DIM`."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-9, 6, DIM - len(EDGES))
    random = rng.choice([-1.0, 1.0], DIM - len(EDGES)) * rng.uniform(1, 10, DIM - len(EDGES))
    return np.asarray([*EDGES, *(random * scale)], dtype=np.float32)


def half(vector: npt.NDArray[np.float32]) -> bytes:
    with np.errstate(over="ignore"):
        return np.asarray(vector, np.float32).astype("<f2").tobytes()


async def upgrade(
    mux: RedisMux, keys_: list[str], vector_type: VectorType, fields: tuple[str, ...] = ()
) -> Any:
    script = scripts.load(mux, MemoryUpgrade)
    return await script(
        MemoryUpgrade(documents=keys_, vector_type=vector_type, fields=[[f] for f in fields])
    )


async def hash_of(mux: RedisMux, key: str) -> dict[str, bytes]:
    flat = await mux.execute("HGETALL", key)
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def decoded(found: dict[str, bytes]) -> dict[str, Any]:
    """The memory a Hash holds, as the new version reads it."""
    return memory_document.decode({k: v.decode() for k, v in found.items() if k != "v"})


def test_the_schema2_documents_are_the_old_versions() -> None:
    vector = np.asarray([0.5, -0.0, 1e-8, -0.25], dtype=np.float32)
    found = document(
        "ns1", MEMORY_ID, vector, text='Ada likes tea / coffee "strong"', now_ms=NOW,
        user_id="ada", kind=Kind.EPISODIC, thread_id="t1", topics=("drinks", "Jörg"),
        metadata={"room": "kitchen", "ü": "x"}, expire_ms=NOW + 60_000, pinned=True,
        event_ms=1_600_000_000_000,
    )  # fmt: skip
    assert dumps(found) == OLD_DOCUMENT


def test_the_lua_read_fields_are_memory_documents() -> None:
    lua = (scripts.LUA_DIR / "lib" / "memory.lua").read_text()
    listed = re.search(r"^local MEMORY_READ = \{(.*?)\}", lua, re.MULTILINE | re.DOTALL)
    assert listed is not None
    assert tuple(re.findall(r"'(\w+)'", listed[1])) == READ_FIELDS


@pytest.mark.parametrize("vector_type", list(VectorType))
async def test_a_document_becomes_the_hash_of_the_table(
    mux: RedisMux, ns: str, vector_type: VectorType
) -> None:
    vector = vectors(7)
    key = keys.memory(ns, MEMORY_ID)
    found = document(
        ns, MEMORY_ID, vector, text="Jörg's tea, /strong/ \"black\"\nno sugar", now_ms=NOW,
        seq=41, user_id="Jörg 🙂", kind=Kind.EPISODIC, thread_id="t 1",
        topics=("drinks", "Café"), metadata={"room": "kitchen", "mood": "a/b \"c\""},
        expire_ms=LATER, source="formation", pinned=True, event_ms=0,
        update_ms=NOW + 5, version=3, hit_count=4, access_count=2, last_access_ms=NOW + 9,
        merged_ids=["01J0000000000000000000000B", "01J0000000000000000000000C"],
        source_event_ids=["1-0", "2-0"], start_ms=NOW - 20, end_ms=NOW - 10,
    )  # fmt: skip
    found["recalled_ms"] = NOW + 9
    await write(mux, key, found)
    assert await upgrade(mux, [key], vector_type) == [[b"ok"]]

    stored = await hash_of(mux, key)
    tags = index_fields(
        ns, user_id="Jörg 🙂", thread_id="t 1", kind=Kind.EPISODIC, topics=("drinks", "Café"),
        text=found["memory"]["text"], metadata=found["memory"]["metadata"], flags=(Flag.PINNED,),
    )  # fmt: skip
    expected = {name: value.encode() for name, value in tags.items()}
    expected |= {
        "id": MEMORY_ID.encode(), "t": found["memory"]["text"].encode(), "md": stored["md"],
        "c": b"%d" % NOW, "um": b"%d" % (NOW + 5), "e": b"%d" % LATER,
        "h": b"4", "vr": b"3", "r": b"%d" % (NOW + 9), "ev": b"0", "q": b"41",
        "src": b"formation", "se": stored["se"], "sm": b"%d" % (NOW - 20),
        "em": b"%d" % (NOW - 10), "p": b"1", "ac": b"2",
        "la": b"%d" % (NOW + 9), "mg": stored["mg"], "v": stored["v"],
    }  # fmt: skip
    assert stored == expected
    assert json.loads(stored["md"]) == {"room": "kitchen", "mood": 'a/b "c"'}
    assert json.loads(stored["se"]) == ["1-0", "2-0"]
    assert json.loads(stored["mg"]) == found["memory"]["merged_ids"]
    # The new version reads back what the old one stored.
    assert decoded(stored) == found["memory"]
    # The expiry kept, to the ms.
    assert await mux.execute("PEXPIRETIME", key) == LATER
    if vector_type is VectorType.FLOAT32:
        assert stored["v"] == np.asarray(vector, "<f4").tobytes()
    else:
        assert stored["v"] == half(vector)


@pytest.mark.parametrize("seed", range(8))
async def test_a_float16_blob_is_numpys_rounding_bit_for_bit(
    mux: RedisMux, ns: str, seed: int
) -> None:
    vector = vectors(seed)
    key = keys.memory(ns, MEMORY_ID)
    await write(mux, key, document(ns, MEMORY_ID, vector, text="x", now_ms=NOW))
    await upgrade(mux, [key], VectorType.FLOAT16)
    stored = await mux.execute("HGET", key, "v")
    got = np.frombuffer(stored, "<u2")
    want = np.frombuffer(half(vector), "<u2")
    wrong = np.flatnonzero(got != want)
    assert wrong.size == 0, [(vector[i], hex(got[i]), hex(want[i])) for i in wrong[:5]]


async def test_a_document_of_an_older_version_reads_back_with_the_defaults(
    mux: RedisMux, ns: str
) -> None:
    """A document written before versions, sources, lifecycles, event times,
    flags, metadata tags, recall times and `$.seq`."""
    vector = vectors(1)
    key = keys.memory(ns, MEMORY_ID)
    found = document(ns, MEMORY_ID, vector, text="old", now_ms=NOW, topics=("a",))
    for name in ("version", "source", "source_event_ids", "start_ms", "end_ms", "pinned"):
        del found["memory"][name]
    for name in ("access_count", "last_access_ms", "merged_ids", "superseded_by", "event_ms"):
        del found["memory"][name]
    del found["tags"]["flags"], found["tags"]["meta"], found["recalled_ms"]
    await write(mux, key, found)
    await upgrade(mux, [key], VectorType.FLOAT32)

    stored = await hash_of(mux, key)
    assert set(stored) == {"c", "h", "id", "k", "n", "s", "t", "th", "tp", "u", "v", "x"}
    assert await mux.execute("PTTL", key) == -1
    assert decoded(stored) == {
        **found["memory"], "version": 1, "source": "", "source_event_ids": [], "start_ms": 0,
        "end_ms": 0, "pinned": False, "access_count": 0, "last_access_ms": 0,
        "merged_ids": [], "superseded_by": "", "event_ms": None,
    }  # fmt: skip


async def test_defaults_are_left_out(mux: RedisMux, ns: str) -> None:
    """A memory as the old version created it: only what is not a default."""
    key = keys.memory(ns, MEMORY_ID)
    await write(mux, key, document(ns, MEMORY_ID, vectors(2), text="plain", now_ms=NOW, seq=1))
    await upgrade(mux, [key], VectorType.FLOAT32)
    stored = await hash_of(mux, key)
    assert set(stored) == {"c", "h", "id", "k", "n", "q", "s", "src", "t", "th", "u", "v", "x"}
    assert decoded(stored)["user_id"] == ""


@pytest.mark.parametrize("vector_type", list(VectorType))
async def test_upgrading_a_hash_or_a_missing_key_changes_nothing(
    mux: RedisMux, ns: str, vector_type: VectorType
) -> None:
    key, gone = keys.memory(ns, MEMORY_ID), keys.memory(ns, "01J0000000000000000000000Z")
    found = document(ns, MEMORY_ID, vectors(3), text="once", now_ms=NOW, expire_ms=LATER)
    await write(mux, key, found)
    await upgrade(mux, [key], vector_type)
    first = await hash_of(mux, key), await mux.execute("PEXPIRETIME", key)
    # Again, and as the other type: a Hash is never converted twice.
    for again in VectorType:
        assert await upgrade(mux, [key, gone], again, ("t", "vr", "e")) == [
            [b"once", None, b"%d" % LATER],
            [],
        ]
        assert (await hash_of(mux, key), await mux.execute("PEXPIRETIME", key)) == first
    assert not await mux.execute("EXISTS", gone)


async def test_a_batch_converts_each_key(mux: RedisMux, ns: str) -> None:
    ids = [f"01J00000000000000000000{i:03d}" for i in range(4)]
    batch = [keys.memory(ns, memory_id) for memory_id in ids]
    for i, key in enumerate(batch):
        await write(mux, key, document(ns, ids[i], vectors(i), text=f"m{i}", now_ms=NOW + i))
    assert await upgrade(mux, batch, VectorType.FLOAT16, ("id", "c")) == [
        [memory_id.encode(), b"%d" % (NOW + i)] for i, memory_id in enumerate(ids)
    ]
    for key in batch:
        assert await mux.execute("TYPE", key) == b"hash"


async def test_a_json_key_that_is_not_a_memory_is_refused_unchanged(mux: RedisMux, ns: str) -> None:
    key = keys.memory(ns, MEMORY_ID)
    await mux.execute("JSON.SET", key, "$", '{"memory":{"id":"x"}}')
    with pytest.raises(UnreadableMemoryError, match="not a memory of storage schema 2"):
        await upgrade(mux, [key], VectorType.FLOAT32)
    assert await mux.execute("JSON.GET", key) == b'{"memory":{"id":"x"}}'
