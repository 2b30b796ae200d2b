"""Event times and metadata filters end to end (`Memory.event_time`,
`MemoryFilter.event_time_*`, `MemoryFilter.metadata`): written, read and
updated through the API, filtering every recall mode, `ListMemories` and
`DeleteMemories` against the real Redis and model; hostile keys and values,
limits, documents written before the fields, an index made before them."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
import redis.asyncio
from google.protobuf import field_mask_pb2, timestamp_pb2

from memrpc.embedded_redis import ServerBinary
from memrpc.embedding import BatchingEmbedder
from memrpc.limits import (
    MAX_FILTER_VALUES,
    MAX_METADATA_FILTERS,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_VALUE_CHARS,
)
from memrpc.store import keys, memory_document
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_index import INDEX, MemoryFilter
from memrpc.v1 import long_term_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2 as wpb
from support import assert_invalid, indexed, older_index

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

MODES = [pb.RECALL_MODE_VECTOR, pb.RECALL_MODE_KEYWORD, pb.RECALL_MODE_HYBRID]
QUERY = "the trip to the lake"
# Key and value text that Redis Search query syntax would read, and more.
HOSTILE = [
    "@body:(x)",
    "x} | @ns:{*",
    "*}) | (@user:{*",
    "-@flags:{superseded}",
    "=>[KNN 100 @embedding $v AS d]",
    "a,b c|d",
    "\\ $v ( ) [ ] < > ; : ! ^ + = & . \" '",
    "ünï 日本 🙂",
    "Case",
    "case",
]
DAY_MS = 86_400_000
# 2023-05-08 00:00 UTC, the first day of the memories below.
T0_MS = 1_683_504_000_000


def ts(ms: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp


async def create(ltm, ns: str, *items: pb.MemoryInput) -> list[str]:
    reply = await ltm.CreateMemories(
        pb.CreateMemoriesRequest(namespace=ns, memories=list(items), dedup_max_distance=0.0)
    )
    return [result.memory.id for result in reply.results]


async def update(ltm, request: pb.UpdateMemoryRequest) -> pb.Memory:
    return (await ltm.UpdateMemory(request)).memory


async def found_ids(ltm, ns: str, flt: pb.MemoryFilter) -> dict[str, list[str]]:
    """The ids each recall mode and `ListMemories` find under `flt`, sorted."""
    ids: dict[str, list[str]] = {}
    for mode in MODES:
        reply = await ltm.SearchMemories(
            pb.SearchMemoriesRequest(
                namespace=ns, text=QUERY, mode=mode, filter=flt, limit=50, max_distance=1.0
            )
        )
        ids[pb.RecallMode.Name(mode)] = sorted(m.memory.id for m in reply.matches)
    listed = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns, filter=flt, page_size=50))
    ids["list"] = sorted(m.id for m in listed.memories)
    return ids


async def assert_finds(ltm, ns: str, flt: pb.MemoryFilter, wanted: list[str]) -> None:
    """Every recall mode and `ListMemories` find exactly `wanted` under `flt`."""
    found = await found_ids(ltm, ns, flt)
    assert found == dict.fromkeys(found, sorted(wanted)), flt


def lake(day: int, **fields: object) -> pb.MemoryInput:
    """A memory of a trip to the lake (every mode finds it by `QUERY`)."""
    return pb.MemoryInput(text=f"Day {day}: we drove to the lake for the trip.", **fields)


# -- Event time ---------------------------------------------------------------


async def test_an_event_time_round_trips_and_updates_apart_from_create_time(ltm, ns: str) -> None:
    [with_time, without] = await create(ltm, ns, lake(1, event_time=ts(T0_MS + 1)), lake(2))
    got = (await ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id=with_time))).memory
    assert got.event_time.ToMilliseconds() == T0_MS + 1
    assert got.create_time.ToMilliseconds() > T0_MS + DAY_MS
    got = (await ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id=without))).memory
    assert not got.HasField("event_time")
    # Set under an empty mask; kept by an update of something else; removed
    # by a mask naming it while unset.
    updated = await update(
        ltm,
        pb.UpdateMemoryRequest(
            namespace=ns, memory_id=without, memory=pb.MemoryInput(event_time=ts(-DAY_MS))
        ),
    )
    assert updated.event_time.ToMilliseconds() == -DAY_MS
    assert updated.version == 2
    updated = await update(
        ltm,
        pb.UpdateMemoryRequest(
            namespace=ns, memory_id=without, memory=pb.MemoryInput(topics=["lake"])
        ),
    )
    assert updated.event_time.ToMilliseconds() == -DAY_MS
    cleared = await update(
        ltm,
        pb.UpdateMemoryRequest(
            namespace=ns,
            memory_id=without,
            memory=pb.MemoryInput(),
            update_mask=field_mask_pb2.FieldMask(paths=["event_time"]),
        ),
    )
    assert not cleared.HasField("event_time")
    await assert_finds(ltm, ns, pb.MemoryFilter(event_time_start=ts(-10 * DAY_MS)), [with_time])


async def test_event_time_ranges_are_inclusive_exclusive_and_skip_memories_without(
    ltm, ns: str
) -> None:
    ids = await create(
        ltm, ns, *(lake(day, event_time=ts(T0_MS + day * DAY_MS)) for day in range(4))
    )
    [untimed] = await create(ltm, ns, lake(9))
    day = [T0_MS + d * DAY_MS for d in range(5)]
    cases = [
        (pb.MemoryFilter(event_time_start=ts(day[1])), ids[1:]),
        (pb.MemoryFilter(event_time_start=ts(day[1] + 1)), ids[2:]),
        (pb.MemoryFilter(event_time_end=ts(day[2])), ids[:2]),
        (pb.MemoryFilter(event_time_end=ts(day[2] + 1)), ids[:3]),
        (pb.MemoryFilter(event_time_start=ts(day[1]), event_time_end=ts(day[3])), ids[1:3]),
        (pb.MemoryFilter(event_time_start=ts(day[2]), event_time_end=ts(day[2])), []),
        (pb.MemoryFilter(event_time_start=ts(day[4])), []),
        # Any range leaves out the memory without an event time.
        (pb.MemoryFilter(event_time_start=ts(-(10**12))), ids),
        (pb.MemoryFilter(), [*ids, untimed]),
    ]
    for flt, wanted in cases:
        await assert_finds(ltm, ns, flt, wanted)


async def test_an_invalid_event_time_is_refused_where_it_is(ltm, ns: str) -> None:
    bad = timestamp_pb2.Timestamp(seconds=253_402_300_800)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(ltm, ns, lake(1), lake(2, event_time=bad))
    assert_invalid(err.value, "memories[1].event_time")
    for name in ("event_time_start", "event_time_end"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await ltm.ListMemories(
                pb.ListMemoriesRequest(namespace=ns, filter=pb.MemoryFilter(**{name: bad}))
            )
        assert_invalid(err.value, f"filter.{name}")


# -- Metadata -----------------------------------------------------------------


async def test_metadata_filters_match_any_value_and_all_filters(ltm, ns: str) -> None:
    a, b, c, d = await create(
        ltm,
        ns,
        lake(1, metadata={"source": "chat", "speaker": "Caroline"}),
        lake(2, metadata={"source": "email", "speaker": "Melanie"}),
        lake(3, metadata={"source": "chat", "speaker": "Melanie"}),
        lake(4),
    )
    chat = pb.MetadataFilter(key="source", values=["chat"])
    cases = [
        (pb.MemoryFilter(metadata=[chat]), [a, c]),
        (
            pb.MemoryFilter(metadata=[pb.MetadataFilter(key="source", values=["chat", "email"])]),
            [a, b, c],
        ),
        (
            pb.MemoryFilter(metadata=[chat, pb.MetadataFilter(key="speaker", values=["Melanie"])]),
            [c],
        ),
        # Values are matched exactly, and a value under another key is not one.
        (
            pb.MemoryFilter(metadata=[pb.MetadataFilter(key="source", values=["Chat", "Melanie"])]),
            [],
        ),
        (pb.MemoryFilter(metadata=[pb.MetadataFilter(key="speaker", values=["chat"])]), []),
        (pb.MemoryFilter(metadata=[pb.MetadataFilter(key="missing", values=[""])]), []),
        (pb.MemoryFilter(), [a, b, c, d]),
    ]
    for flt, wanted in cases:
        await assert_finds(ltm, ns, flt, wanted)
    # An update of the metadata moves the memory between filters.
    await ltm.UpdateMemory(
        pb.UpdateMemoryRequest(
            namespace=ns, memory_id=a, memory=pb.MemoryInput(metadata={"source": "email"})
        )
    )
    await assert_finds(ltm, ns, pb.MemoryFilter(metadata=[chat]), [c])
    await assert_finds(
        ltm,
        ns,
        pb.MemoryFilter(metadata=[pb.MetadataFilter(key="source", values=["email"])]),
        [a, b],
    )


async def test_hostile_keys_and_values_match_only_themselves(ltm, ns: str) -> None:
    other = f"{ns}x"
    items = [lake(i, metadata={text: text, "v": text}) for i, text in enumerate(HOSTILE)]
    ids = await create(ltm, ns, *items)
    [empty] = await create(ltm, ns, lake(99, metadata={"v": ""}))
    # The same metadata in another namespace is never found from this one.
    await create(ltm, other, *items)
    for i, text in enumerate(HOSTILE):
        by_key = pb.MetadataFilter(key=text, values=[text])
        await assert_finds(ltm, ns, pb.MemoryFilter(metadata=[by_key]), [ids[i]])
        by_value = pb.MetadataFilter(key="v", values=[text, "*"])
        await assert_finds(ltm, ns, pb.MemoryFilter(metadata=[by_value]), [ids[i]])
    any_value = pb.MetadataFilter(key="v", values=["*", "", "%"])
    await assert_finds(ltm, ns, pb.MemoryFilter(metadata=[any_value]), [empty])
    deleted = await ltm.DeleteMemories(
        pb.DeleteMemoriesRequest(
            namespace=ns,
            filter=pb.MemoryFilter(metadata=[pb.MetadataFilter(key="v", values=HOSTILE[:2])]),
        )
    )
    assert deleted.deleted_count == 2
    assert len((await found_ids(ltm, other, pb.MemoryFilter()))["list"]) == len(HOSTILE)


async def test_filters_combine_with_each_other_and_bound_context_and_deletes(
    wm, ltm, ns: str
) -> None:
    day = [T0_MS + d * DAY_MS for d in range(3)]
    a, b, c = await create(
        ltm,
        ns,
        lake(0, event_time=ts(day[0]), metadata={"who": "me"}, user_id="u1"),
        lake(1, event_time=ts(day[1]), metadata={"who": "me"}, user_id="u1"),
        lake(2, event_time=ts(day[2]), metadata={"who": "you"}, user_id="u2"),
    )
    me = pb.MetadataFilter(key="who", values=["me"])
    flt = pb.MemoryFilter(metadata=[me], event_time_start=ts(day[1]), user_ids=["u1"])
    await assert_finds(ltm, ns, flt, [b])
    for mode in MODES:
        context = await wm.GetContext(
            wpb.GetContextRequest(
                namespace=ns, thread_id="none", text=QUERY, filter=flt, mode=mode, max_distance=1.0
            )
        )
        assert [m.memory.id for m in context.matches] == [b], mode
    deleted = await ltm.DeleteMemories(pb.DeleteMemoriesRequest(namespace=ns, filter=flt))
    assert deleted.deleted_count == 1
    await assert_finds(ltm, ns, pb.MemoryFilter(), [a, c])
    deleted = await ltm.DeleteMemories(
        pb.DeleteMemoriesRequest(namespace=ns, filter=pb.MemoryFilter(event_time_end=ts(day[2])))
    )
    assert deleted.deleted_count == 1
    await assert_finds(ltm, ns, pb.MemoryFilter(), [c])


async def test_metadata_filters_are_bounded_and_checked(ltm, ns: str) -> None:
    one = pb.MetadataFilter(key="k", values=["v"])
    cases = [
        (pb.MemoryFilter(metadata=[one] * (MAX_METADATA_FILTERS + 1)), "filter.metadata"),
        (
            pb.MemoryFilter(metadata=[pb.MetadataFilter(key="", values=["v"])]),
            "filter.metadata[0].key",
        ),
        (
            pb.MemoryFilter(
                metadata=[
                    one,
                    pb.MetadataFilter(key="k" * (MAX_METADATA_KEY_CHARS + 1), values=["v"]),
                ]
            ),
            "filter.metadata[1].key",
        ),
        (
            pb.MemoryFilter(metadata=[pb.MetadataFilter(key="k\n", values=["v"])]),
            "filter.metadata[0].key",
        ),
        (pb.MemoryFilter(metadata=[pb.MetadataFilter(key="k")]), "filter.metadata[0].values"),
        (
            pb.MemoryFilter(
                metadata=[
                    pb.MetadataFilter(
                        key="k", values=[str(i) for i in range(MAX_FILTER_VALUES + 1)]
                    )
                ]
            ),
            "filter.metadata[0].values",
        ),
        (
            pb.MemoryFilter(
                metadata=[
                    pb.MetadataFilter(key="k", values=["v", "v" * (MAX_METADATA_VALUE_CHARS + 1)])
                ]
            ),
            "filter.metadata[0].values[1]",
        ),
    ]
    for flt, field in cases:
        for call in (
            ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns, filter=flt)),
            ltm.SearchMemories(pb.SearchMemoriesRequest(namespace=ns, text=QUERY, filter=flt)),
            ltm.DeleteMemories(pb.DeleteMemoriesRequest(namespace=ns, filter=flt)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call
            assert_invalid(err.value, field)
    # The most of each is fine.
    most = pb.MetadataFilter(
        key="k" * MAX_METADATA_KEY_CHARS, values=[str(i) for i in range(MAX_FILTER_VALUES)]
    )
    flt = pb.MemoryFilter(metadata=[most] * MAX_METADATA_FILTERS)
    await assert_finds(ltm, ns, flt, [])


# -- Documents and indexes from before ----------------------------------------


async def test_documents_written_before_match_no_such_filter_until_updated(
    ltm, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    [old] = await create(ltm, ns, lake(1, metadata={"k": "v"}, event_time=ts(T0_MS)))
    key = keys.memory(ns, old)
    await redis_client.hdel(key, memory_document.METADATA_TAGS, memory_document.EVENT_MS)
    got = (await ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id=old))).memory
    assert not got.HasField("event_time")
    assert dict(got.metadata) == {"k": "v"}
    by_meta = pb.MemoryFilter(metadata=[pb.MetadataFilter(key="k", values=["v"])])
    await assert_finds(ltm, ns, by_meta, [])
    await assert_finds(ltm, ns, pb.MemoryFilter(event_time_end=ts(T0_MS + 1)), [])
    await assert_finds(ltm, ns, pb.MemoryFilter(), [old])
    await ltm.UpdateMemory(
        pb.UpdateMemoryRequest(
            namespace=ns,
            memory_id=old,
            memory=pb.MemoryInput(metadata={"k": "v"}, event_time=ts(T0_MS)),
        )
    )
    await assert_finds(ltm, ns, by_meta, [old])
    await assert_finds(ltm, ns, pb.MemoryFilter(event_time_end=ts(T0_MS + 1)), [old])


NEW_FIELDS = ("event_ms", "meta")


async def test_an_older_index_gets_the_filter_fields(
    tmp_path: Path, server_binary: ServerBinary, embedder: BatchingEmbedder
) -> None:
    async with older_index(tmp_path, server_binary, embedder.dim, NEW_FIELDS) as client:
        store = LongTermStore(client, dim=embedder.dim)
        [vector] = await embedder.embed(["x"])
        item = NewMemory("x", vector, metadata={"k": "v"}, event_ms=T0_MS)
        # One without an event time: a null Search skips, not a failure.
        untimed = NewMemory("y", vector, user_id="u")
        [made, _] = await store.create("ns", [item, untimed], max_distance=0.2)
        assert await store.ensure_index() == list(NEW_FIELDS)
        await indexed(client)
        flt = MemoryFilter(metadata=(("k", ("v",)),), event_start_ms=T0_MS, event_end_ms=T0_MS + 1)
        [match] = await store.search("ns", vector, flt, limit=5, max_distance=1.0)
        assert match.memory.id == made.memory_id
        assert match.memory.event_ms == T0_MS
        info = await client.execute("FT.INFO", INDEX)
        assert int(info[info.index(b"hash_indexing_failures") + 1]) == 0
