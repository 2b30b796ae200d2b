"""Makes the schema-2 fixture (`schema2_fixture.py`, `tests/data/schema2/`)
with a server of the last version before storage schema 3, through its
public gRPC API, and dumps what it stored.

Run it with that version's environment (`main` at 77087ab, whose storage
is fafb991's; `make install` there), from the root of this repository:

    PYTHONPATH=. /path/to/that/checkout/.venv/bin/python tests/make_schema2_fixture.py

It starts that version's `memrpc serve` (its own embedded Redis, jobs on,
`bench/servers.py`) and writes three namespaces: `mig-alpha` (users `ada`,
`Jörg 🙂` and none; semantic and episodic memories with topics, metadata,
event times, a pin, long times to live and none, duplicates that add hits
and one that pins, two updates of one memory, searches that record
accesses, and a near-paraphrase pair that the consolidation job merges),
`mig-beta` (another tenant, one text the same as in alpha's) and
`mig-turns` (two episodic memories formed from turns that left a
window). Every time to live is years long, so the fixture stays live. It
waits for the background work (formation, merge, access counts), reads
each memory back with `GetMemory`, then dumps the keys.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio
from bench.servers import start_memrpc
from google.protobuf import duration_pb2, field_mask_pb2, json_format, timestamp_pb2

from memrpc.store.memory_index import create_command  # the old version's
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import namespace_settings_pb2 as npb
from memrpc.v1 import working_memory_pb2 as wpb
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from memrpc.v1.namespace_settings_pb2_grpc import NamespacesStub
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub
from schema2_fixture import API, DIR, KEYS, MEMORIES

ALPHA, BETA, TURNS = "mig-alpha", "mig-beta", "mig-turns"
JOERG = "Jörg 🙂"
DIM = 384
TEN_YEARS = duration_pb2.Duration(seconds=3650 * 86_400)
SEMANTIC, EPISODIC = lpb.MEMORY_KIND_SEMANTIC, lpb.MEMORY_KIND_EPISODIC
# How long the background work (formation, merge, access counts) may take.
WAIT_S = 60.0


def _time(iso: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(iso)
    return stamp


async def _until(what: str, check: Callable[[], Awaitable[bool]]) -> None:
    """Waits (at most `WAIT_S`) for `check` to hold."""
    deadline = time.monotonic() + WAIT_S
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {WAIT_S:g} s for {what}")
        await asyncio.sleep(0.2)


async def _create(
    ltm: LongTermMemoryStub, ns: str, items: list[lpb.MemoryInput], **request: Any
) -> list[lpb.CreateMemoryResult]:
    reply = await ltm.CreateMemories(
        lpb.CreateMemoriesRequest(namespace=ns, memories=items, **request)
    )
    return list(reply.results)


async def _consolidation(settings: NamespacesStub, *, enabled: bool) -> None:
    policy = npb.ConsolidationPolicy(
        enabled=enabled, max_distance=0.3, interval=duration_pb2.Duration(seconds=60)
    )
    await settings.UpdateNamespaceSettings(
        npb.UpdateNamespaceSettingsRequest(
            namespace=ALPHA,
            settings=npb.NamespaceSettings(consolidation=policy),
            update_mask=field_mask_pb2.FieldMask(paths=["consolidation"]),
        )
    )


async def _alpha(ltm: LongTermMemoryStub, settings: NamespacesStub) -> None:
    """Alpha's memories; its near-paraphrase pair merged by consolidation."""
    await _consolidation(settings, enabled=False)
    results = await _create(
        ltm,
        ALPHA,
        [
            lpb.MemoryInput(
                text="Ada is allergic to peanuts.", user_id="ada", topics=["health", "food"],
                metadata={"source": "intake form", "severity": "high"}, pinned=True,
                event_time=_time("2024-03-01T10:00:00.123Z"),
            ),
            lpb.MemoryInput(
                text="Ada's favourite programming language is OCaml.", user_id="ada",
                topics=["programming"],
            ),
            lpb.MemoryInput(
                text="Jörg wohnt in Köln, nahe dem Dom.", user_id=JOERG,
                topics=["café", "wohnort"],
                metadata={"quote": 'he said "hi", then left', "list": "a,b"},
            ),
            lpb.MemoryInput(text="The office closes at 6 pm on Fridays."),
            lpb.MemoryInput(
                text="Ada debugged the payment service outage with the on-call team.",
                user_id="ada", kind=EPISODIC, thread_id="t-incident-1", ttl=TEN_YEARS,
                event_time=_time("2025-11-20T03:15:00Z"),
            ),
            lpb.MemoryInput(
                text="Jörg asked for a summary of the quarterly report.", user_id=JOERG,
                kind=EPISODIC, ttl=duration_pb2.Duration(seconds=0),
            ),
            lpb.MemoryInput(
                text="The trial licence is valid for one year.", user_id="ada",
                ttl=duration_pb2.Duration(seconds=5 * 365 * 86_400),
            ),
        ],
        request_id="fixture-alpha-1",
    )  # fmt: skip
    ids = [result.memory.id for result in results]
    duplicates = await _create(
        ltm,
        ALPHA,
        [
            lpb.MemoryInput(text="Ada's favorite programming language is OCaml.", user_id="ada"),
            lpb.MemoryInput(text="the office closes at 6 pm on fridays.", pinned=True),
        ],
    )
    assert all(r.outcome == lpb.CREATE_OUTCOME_DUPLICATE for r in duplicates), duplicates
    for mask, memory in (
        (["text"], lpb.MemoryInput(text="Jörg wohnt jetzt in Köln-Ehrenfeld.")),
        (["metadata"], lpb.MemoryInput(metadata={"quote": "moved", "since": "2025"})),
        (["topics", "event_time"], lpb.MemoryInput(
            topics=["licence"], event_time=_time("2026-01-01T00:00:00Z"))),
    ):  # fmt: skip
        target = ids[6] if "topics" in mask else ids[2]
        await ltm.UpdateMemory(
            lpb.UpdateMemoryRequest(
                namespace=ALPHA, memory_id=target, memory=memory,
                update_mask=field_mask_pb2.FieldMask(paths=mask),
            )
        )  # fmt: skip
    for text in ("peanut allergy", "Which language does Ada like?", "peanuts"):
        await ltm.SearchMemories(lpb.SearchMemoriesRequest(namespace=ALPHA, text=text, limit=2))
    pair = await _create(
        ltm,
        ALPHA,
        [
            lpb.MemoryInput(text="Ada prefers tea over coffee in the morning.", user_id="ada"),
            lpb.MemoryInput(text="In the morning Ada prefers tea to coffee.", user_id="ada"),
        ],
        dedup_max_distance=0.0,
    )
    assert all(r.outcome == lpb.CREATE_OUTCOME_CREATED for r in pair), pair
    await _consolidation(settings, enabled=True)

    async def merged() -> bool:
        listed = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ALPHA))
        return any(memory.merged_memory_ids for memory in listed.memories)

    await _until("the consolidation job's merge", merged)


async def _beta(ltm: LongTermMemoryStub) -> None:
    await _create(
        ltm,
        BETA,
        [
            lpb.MemoryInput(text="Ada is allergic to peanuts.", user_id="ada"),
            lpb.MemoryInput(
                text="Deployed release 4.2 to the staging cluster.", kind=EPISODIC,
                thread_id="t-9", ttl=TEN_YEARS, metadata={"env": "staging"},
            ),
        ],
    )  # fmt: skip


async def _turns(ltm: LongTermMemoryStub, wm: WorkingMemoryStub, settings: NamespacesStub) -> None:
    """Fourteen turns through a window of four: ten leave it, two memories."""
    await settings.UpdateNamespaceSettings(
        npb.UpdateNamespaceSettingsRequest(
            namespace=TURNS,
            settings=npb.NamespaceSettings(
                memories=npb.MemoryDefaults(episodic_ttl=TEN_YEARS),
                formation=npb.FormationPolicy(turns_per_memory=5),
            ),
            update_mask=field_mask_pb2.FieldMask(
                paths=["memories.episodic_ttl", "formation.turns_per_memory"]
            ),
        )
    )
    contents = [
        "I planted six tomato seedlings in the greenhouse today.",
        "Water them every morning and keep the vents open on warm days.",
        "Aphids showed up on two of them already.",
        "Spray them with soapy water; ladybirds help too.",
        "I will pick the first tomatoes in July and make chutney.",
        "My car makes a grinding noise when I brake.",
        "That sounds like worn brake pads; have the discs checked as well.",
        "The garage in Linden can see it on Thursday at nine.",
        "Ask them for a quote before they replace the discs.",
        "They quoted 240 euros for pads and discs on the front axle.",
        "Thanks, see you next week.",
        "Goodbye!",
        "One more thing: the invoice goes to my work address.",
        "Noted.",
    ]
    turns = [
        wpb.TurnInput(role=("user", "assistant")[i % 2], content=content)
        for i, content in enumerate(contents)
    ]
    await wm.AppendTurns(
        wpb.AppendTurnsRequest(
            namespace=TURNS, thread_id="t-chat", user_id="ada", turns=turns, max_window_turns=4
        )
    )

    async def formed() -> bool:
        listed = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=TURNS))
        return len(listed.memories) == 2

    await _until("the formation job's two memories", formed)


async def _keys(client: redis.asyncio.Redis, pattern: str) -> list[str]:
    return sorted([key.decode() async for key in client.scan_iter(match=pattern)])


async def _api_view(ltm: LongTermMemoryStub, client: redis.asyncio.Redis) -> list[dict[str, Any]]:
    """`GetMemory` of every memory key, once every access count is written."""
    found = []
    for key in await _keys(client, "memrpc:mem:*"):
        ns = key.split("{", 1)[1].split("}", 1)[0]
        reply = await ltm.GetMemory(lpb.GetMemoryRequest(namespace=ns, memory_id=key[-26:]))
        found.append(json_format.MessageToDict(reply.memory))
    return found


async def _dump(client: redis.asyncio.Redis, out: Path, api: list[dict[str, Any]]) -> None:
    lines = []
    for key in await _keys(client, "memrpc:mem:*"):
        document = json.loads(await client.execute_command("JSON.GET", key))
        expiry = {
            "pttl": await client.pttl(key),
            "pexpiretime": await client.execute_command("PEXPIRETIME", key),
        }
        lines.append({"key": key, "document": document, **expiry})
    (out / MEMORIES).write_text("".join(json.dumps(line) + "\n" for line in lines))
    strings = {
        key: (await client.get(key)).decode() for key in await _keys(client, "memrpc:memseq:*")
    }
    hashes = {}
    for key in [*await _keys(client, "memrpc:nsset:*"), "memrpc:model"]:
        found = await client.hgetall(key)
        hashes[key] = {k.decode(): v.decode() for k, v in sorted(found.items())}
    namespaces = sorted(m.decode() for m in await client.smembers("memrpc:namespaces"))
    others = {
        "index": create_command(DIM),
        "strings": strings,
        "hashes": hashes,
        "sets": {"memrpc:namespaces": namespaces},
    }
    (out / KEYS).write_text(json.dumps(others, indent=1, ensure_ascii=False) + "\n")
    (out / API).write_text("".join(json.dumps(memory, ensure_ascii=False) + "\n" for memory in api))


async def main(out: Path) -> None:
    """Writes the memories with an old server, and dumps them into `out`."""
    with tempfile.TemporaryDirectory(prefix="memrpc-s2-", dir="/tmp") as work:
        server = await start_memrpc(None, Path(work), extra_args=["--drain-delay", "0"])
        client = redis.asyncio.from_url(server.redis_url)
        try:
            async with grpc.aio.insecure_channel(server.target) as channel:
                ltm, settings = LongTermMemoryStub(channel), NamespacesStub(channel)
                await _alpha(ltm, settings)
                await _beta(ltm)
                await _turns(ltm, WorkingMemoryStub(channel), settings)
                api: list[dict[str, Any]] = []

                async def accessed() -> bool:  # access counts are written every second
                    api[:] = await _api_view(ltm, client)
                    return any(memory.get("accessCount") for memory in api)

                await _until("the searches' access counts", accessed)
            await _dump(client, out, api)
        finally:
            await client.aclose()
            server.stop()
    print(f"{len(api)} memories into {out}", file=sys.stderr)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DIR
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
