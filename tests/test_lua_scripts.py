"""The Lua scripts against their typed argument builders and malformed calls.

Each builder of `store/script_args.py` names the script's KEYS and ARGV in
the order its header states them. Each script, called directly on the
embedded Redis with malformed arguments (missing, not numbers, out of
range, odd groups, wrong key counts), fails with `memrpc: bad argument`
and writes nothing. A session whose `turn_sizes` disagrees with its window
is repaired by the next append: GetSession keeps working, the window's event
ids (`turn_ids`) stay in step with it.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Sequence

import pytest
import redis.asyncio
import redis.exceptions

from memrpc.embedding.identity import identify
from memrpc.embedding.model_files import model_files
from memrpc.store import keys, request_ids, script_args, scripts
from memrpc.store.memory_document import VectorType
from memrpc.store.redis_mux import Arg
from memrpc.v1 import working_memory_pb2 as pb

pytestmark = pytest.mark.genuine_redis

BUILDERS = [
    cls
    for _, cls in inspect.getmembers(script_args, inspect.isclass)
    if issubclass(cls, scripts.Call) and cls is not scripts.Call
]
F32 = VectorType.FLOAT32
# The packaged model's identity (384-d), as the servers record it.
PACKAGED = identify(model_files(None), 384)
# `-- KEYS[1] name: ...`, `-- ARGV[4..] name: ...` (variadic).
_HEADER = re.compile(r"^-- (KEYS|ARGV)\[(\d+)(\.\.)?\] ([a-z_]+): ", re.MULTILINE)


def header(lua: str) -> dict[str, list[tuple[str, bool]]]:
    """The KEYS and ARGV a script's header names, each (name, variadic), in
    the order of their indexes, which must count from 1."""
    text = (scripts.LUA_DIR / f"{lua}.lua").read_text()
    found: dict[str, list[tuple[str, bool]]] = {"KEYS": [], "ARGV": []}
    for kind, index, variadic, name in _HEADER.findall(text):
        assert int(index) == len(found[kind]) + 1, (lua, kind, index)
        found[kind].append((name, bool(variadic)))
    return found


def test_every_script_has_one_builder() -> None:
    files = sorted(path.stem for path in scripts.LUA_DIR.glob("*.lua"))
    assert sorted(cls.LUA for cls in BUILDERS) == files


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda cls: cls.LUA)
def test_each_builder_names_the_arguments_of_its_script_header(builder: type) -> None:
    layout = scripts.Layout.of(builder)

    def flagged(names: Sequence[str], variadic: bool) -> list[tuple[str, bool]]:
        return [(name, variadic and i == len(names) - 1) for i, name in enumerate(names)]

    assert header(builder.LUA) == {
        "KEYS": flagged(layout.keys, layout.variadic_keys),
        "ARGV": flagged(layout.args, layout.variadic_args),
    }


# -- Malformed calls ------------------------------------------------------------


def _valid(ns: str) -> dict[str, tuple[list[str], list[Arg]]]:
    """A well-formed call of each script (KEYS, ARGV), in namespace `ns`."""
    session, index = keys.session(ns, "t"), keys.session_index(ns)
    stream, feed = keys.events(ns, "t"), keys.feed(ns)
    entry = json.dumps({"role": "user", "content": "hi", "metadata": {}, "create_ms": 1})
    doc = keys.memory(ns, "01J0000000000000000000000A")
    other = keys.memory(ns, "01J0000000000000000000000B")
    prefix, changes = keys.memory(ns, ""), keys.events(ns, "memrpc.memories")
    document = json.dumps({"id": "01J0000000000000000000000A", "c": "1"})
    thread, tag = keys.checkpoint_thread(ns, "t"), keys.tag_value("t")
    return {
        "append_turns": (
            [session, index, stream, feed],
            ["t", 1000, 60_000, "", 20, 4096, 100, 100, "", "", "", "", 0, "1", entry, "{}"],
        ),
        "session_update": (
            [session, index, stream, feed],
            ["t", 1000, 60_000, "", "0", "", "", "", 100, 100, "goal", "g"],
        ),
        "summary_fold": ([session], ["1", "0-0", "1-0", "1-0", "1-0", 1, 0, "s", 1000, "x"]),
        "delete_session": ([session, index], ["t", ""]),
        "list_sessions": ([index], [keys.session(ns, ""), 10, "0", "+inf", "", 100]),
        "append_events": ([stream, feed], [100, 100, "t", "", 0, 2, "type", "x"]),
        "events_receive": ([feed], ["g", "c", 0, 10, 1000, 10, "0-0"]),
        "events_delete_group": ([feed], ["g"]),
        "events_after": ([stream], ["0-0", 10]),
        "dedup_insert": (
            [keys.memory_request(ns, ""), keys.memory_sequence(ns), doc],
            [
                "idx",
                "",
                F32,
                0.2,
                prefix,
                "",
                0,
                0,
                "",
                "",
                "",
                b"\0\0\x80?",
                "v",
                "",
                b"",
                0,
                document,
            ],
        ),
        "dedup_update": (
            [doc],
            ["idx", "", F32, 0.2, prefix, "", "", "", "", b"", "v", "", b"", "", "", "t", "x"],
        ),
        "delete_memory": ([doc], ["", F32]),
        "delete_memories": ([prefix], ["idx", "", "*", 10]),
        "lease": ([keys.lease(ns, "job")], ["take", "token", 1000]),
        "memory_forget": (
            [keys.events(ns, "memrpc.memories"), feed, doc],
            [
                *("budget", "memrpc.memory_forgotten", "memrpc.memories", 100, 100),
                *("idx", "", 0, F32, 1, ""),
            ],
        ),
        "memory_access": ([doc], [prefix, F32, 1, 1000]),
        "memory_merge": (
            [doc, other, changes, feed],
            [1, 1, 0.1, "memrpc.memories", "memrpc.memory_merged", 100, 100, F32],
        ),
        "memory_supersede": (
            [doc, other, changes, feed],
            [1, 1, "superseded", "memrpc.memories", "memrpc.memory_superseded", 100, 100, F32],
        ),
        "memory_upgrade": ([doc], [F32, "t"]),
        "namespace_settings_update": (
            [keys.namespace_settings(ns)],
            [1000, "", "window_turns", 5, "dedup_distance", "", "recall_mode", "hybrid"],
        ),
        # A skip of one trimmed turn: no memory.
        "memory_form": (
            [session, keys.memory_sequence(ns)],
            ["1", "0-0", "1-0", 0, 1, "idx", "", F32, 0.2, prefix],
        ),
        "language_model_budget": ([keys.model_calls(ns, 1)], [60, 120_000]),
        # The packaged model, which every server on the shared Redis records.
        "model_record": (
            [keys.model(), keys.model_next()],
            [PACKAGED.name, PACKAGED.dim, PACKAGED.fingerprint, 1000, "", 0, "", ""],
        ),
        "reembed_read": ([doc], [prefix, "v_0123456789ab"]),
        "reembed_write": ([doc], [prefix, "v_0123456789ab", "123", b"\0\0\x80?"]),
        "reembed_cleanup": ([doc], [prefix, "v"]),
        # Of a model no move goes to: ends nothing.
        "reembed_finish": ([keys.model(), keys.model_next()], ["0123456789ab", 1000]),
        "checkpoint_put": (
            [thread],
            [tag, "none", "c1", "", "", "", "{}", "json", "x", 1000, ns],
        ),
        "checkpoint_writes": ([thread], [tag, "none", "c1", ns, "task:0", "w", "0"]),
        "checkpoint_read": ([thread], [tag, "none", "", "+", 10, ns]),
        "checkpoint_prune": ([thread], [tag, 1, ns]),
        "checkpoint_delete_runs": ([keys.checkpoint_run(ns, "r")], [ns]),
        "checkpoint_copy": (
            [thread, keys.checkpoint_thread(ns, "u")],
            [tag, keys.tag_value("u"), ns],
        ),
    }


# The scripts that take any number of keys (at least one), whatever their ARGV.
ANY_KEY_COUNT = {"memory_upgrade", "reembed_read", "reembed_cleanup", "checkpoint_delete_runs"}

# One thing wrong with a valid call: (script, ARGV index, new value or None
# to cut ARGV there).
MALFORMED: list[tuple[str, int, Arg | None]] = [
    ("checkpoint_put", 0, "6f"),  # another thread than KEYS[1]'s
    ("checkpoint_put", 2, ""),  # no checkpoint id
    ("checkpoint_put", 9, "soon"),  # a time that is not a number
    ("checkpoint_put", 10, ""),  # no namespace
    ("checkpoint_writes", 6, "2"),  # neither kept nor replaced
    ("checkpoint_writes", 7, "extra"),  # a write without its value and flag
    ("checkpoint_read", 4, 0),  # no checkpoints to read
    ("checkpoint_prune", 1, 2),  # keep more than the newest
    ("checkpoint_copy", 1, "74"),  # the source thread again
    ("append_turns", 1, "soon"),  # now, not a number
    ("append_turns", 13, "yes"),  # form_memories: '1', '0' or ''
    ("append_turns", 2, -5),  # a negative ttl
    ("append_turns", 3, "x"),  # expected version, not a number
    ("append_turns", 4, 0),  # an empty window
    ("append_turns", 5, -1),  # a negative byte budget
    ("append_turns", 5, 10),  # an entry over the budget
    ("append_turns", 13, "not json"),  # an entry that is not an object
    ("append_turns", 14, None),  # a turn without its payload (odd pairs)
    ("append_turns", 6, 1.5),  # a fractional MAXLEN
    ("append_turns", 12, -1),  # a negative time to remember the request
    ("delete_session", 1, "x"),  # expected version, not a number
    ("delete_session", 1, 0),  # expected version 0: sessions start at 1
    ("session_update", 2, "never"),
    ("session_update", 4, "yes"),
    ("session_update", 8, 0),  # a MAXLEN of 0
    ("session_update", 9, 1.5),  # a fractional feed MAXLEN
    ("session_update", 10, "version"),  # a field scripts do not write
    ("session_update", 10, "turn_sizes"),  # written by the script alone
    ("session_update", 10, "turns"),  # the window set to other than '[]'
    ("session_update", 11, None),  # a field without a value
    ("summary_fold", 0, "soon"),  # create_ms, not a number
    ("summary_fold", 1, ""),  # no folded_through
    ("summary_fold", 2, ""),  # no new folded_through
    ("summary_fold", 3, ""),  # turns folded without a first id
    ("summary_fold", 4, ""),  # turns folded without a last id
    ("summary_fold", 5, 0),  # no turn covered at all
    ("summary_fold", 6, -1),
    ("summary_fold", 8, "later"),
    ("summary_fold", 9, ""),  # no summarizer
    ("list_sessions", 1, 0),
    ("list_sessions", 1, "ten"),
    ("list_sessions", 2, "2"),
    ("list_sessions", 3, "high"),
    ("list_sessions", 5, 0),  # no scan budget
    ("append_events", 0, 0),
    ("append_events", 5, 3),  # an odd field count
    ("append_events", 5, 4),  # more fields than given
    ("append_events", 6, "data"),  # `type` not first
    ("append_events", 2, ""),  # no thread
    ("events_receive", 3, 0),
    ("events_receive", 4, "lots"),
    ("events_receive", 2, -1),
    ("events_receive", 5, 0),  # no steps
    ("events_receive", 6, "later"),  # a claim cursor that is not a stream id
    ("events_delete_group", 0, ""),
    ("events_after", 0, "later"),  # a cursor that is not a stream id
    ("events_after", 1, -1),
    ("dedup_insert", 2, "FLOAT64"),  # not a vector type
    ("dedup_insert", 3, "near"),
    ("dedup_insert", 3, -0.5),
    ("dedup_insert", 5, "fp"),  # a fingerprint without a time to remember it
    ("dedup_insert", 6, -1),
    ("dedup_insert", 7, "second"),  # the first item's index
    ("dedup_insert", 11, b""),  # no vector
    ("dedup_insert", 15, "tomorrow"),  # expire ms
    ("dedup_insert", 16, ""),  # no document
    ("dedup_insert", 16, "not json"),
    ("dedup_insert", 16, '["01J0000000000000000000000A", "1"]'),  # not an object
    ("dedup_insert", 16, '{"id": "01J0000000000000000000000A"}'),  # no create time
    ("dedup_insert", 16, '{"id": "x", "c": 1}'),  # a value that is not a string
    ("dedup_insert", 16, '{"id": "x", "c": "1", "h": ""}'),  # an empty value
    ("dedup_insert", 16, '{"id": "x", "c": "1", "v": "blob"}'),  # the script writes v
    ("dedup_insert", 16, '{"id": "x", "c": "1", "q": "7"}'),  # and numbers q
    ("dedup_insert", 16, None),  # an item cut short
    ("dedup_insert", 4, "memrpc:elsewhere:"),  # a document outside the prefix
    ("dedup_update", 2, "float32"),  # vector types are upper case
    ("dedup_update", 3, 3),
    ("dedup_update", 5, 0),  # versions start at 1
    ("dedup_update", 5, "v2"),
    ("dedup_update", 13, "tomorrow"),
    ("dedup_update", 14, "yes"),  # pinned: '', '0' or '1'
    ("dedup_update", 15, "vr"),  # fields the script owns
    ("dedup_update", 15, "v"),
    ("dedup_update", 15, "p"),
    ("dedup_update", 15, "f"),
    ("dedup_update", 15, "e"),
    ("dedup_update", 15, ""),  # no field
    ("dedup_update", 16, None),  # a field without its value
    ("dedup_update", 4, "memrpc:elsewhere:"),  # the document outside the prefix
    ("delete_memory", 0, "any"),
    ("delete_memory", 0, 0),
    ("delete_memory", 1, ""),  # no vector type
    ("delete_memories", 3, 0),
    ("delete_memories", 3, "all"),
    ("memory_access", 1, "FLOAT64"),
    ("memory_access", 2, 0),  # no search returned it
    ("memory_access", 3, "later"),
    ("memory_access", 3, None),  # a count without its time
    ("memory_merge", 0, 0),  # versions start at 1
    ("memory_merge", 2, 3),  # a distance out of range
    ("memory_merge", 7, "FLOAT64"),
    ("memory_merge", 7, None),  # no vector type
    ("memory_supersede", 1, "x"),
    ("memory_supersede", 2, ""),  # no flag
    ("memory_supersede", 7, "float16"),
    ("memory_upgrade", 0, ""),  # no vector type
    ("memory_upgrade", 0, "FLOAT64"),
    ("lease", 0, "renew"),  # not an action
    ("lease", 1, ""),  # no token
    ("lease", 2, 0),  # no time left
    ("lease", 2, 1.5),  # a fractional time
    ("memory_forget", 0, ""),  # no rule
    ("memory_forget", 3, 0),  # a MAXLEN of 0
    ("memory_forget", 7, -1),  # a negative budget
    ("memory_forget", 8, "HALF"),  # not a vector type
    ("memory_forget", 9, 0),  # versions start at 1
    ("memory_forget", 10, "lately"),  # a recall time that is not a number
    ("memory_forget", 10, None),  # a document without its recall time
    ("namespace_settings_update", 0, "now"),
    ("namespace_settings_update", 1, -1),  # versions start at 0 (never changed)
    ("namespace_settings_update", 2, "version"),  # a field scripts do not write
    ("namespace_settings_update", 3, "five"),  # a value that is not a number
    ("namespace_settings_update", 3, -5),
    ("namespace_settings_update", 7, None),  # a field without a value
    ("namespace_settings_update", 7, "Hybrid!"),  # a mode that is not a word
    ("namespace_settings_update", 7, 2),
    ("memory_form", 0, "soon"),  # create_ms, not a number
    ("memory_form", 3, 1),  # turns formed without a memory
    ("memory_form", 4, 0),  # no turn covered at all
    ("memory_form", 7, "FLOAT64"),  # not a vector type
    ("memory_form", 8, 3),  # a dedup distance out of range
    ("memory_form", 10, "x"),  # an item without its document
    ("language_model_budget", 0, 0),  # a budget of no call
    ("language_model_budget", 1, "soon"),  # a time to live that is not a number
    ("model_record", 0, ""),  # no name
    ("model_record", 1, 0),  # vectors of no number
    ("model_record", 1, "wide"),
    ("model_record", 2, ""),  # no fingerprint
    ("model_record", 2, "not hex!"),
    ("model_record", 3, "soon"),  # a time that is not a number
    ("model_record", 4, "next"),  # a model to move to without its dim
    ("model_record", 7, None),  # ... or without its field
    ("dedup_insert", 12, "embedding"),  # a field that holds no vectors
    ("dedup_insert", 13, "v_x"),  # another field that is not a model's
    ("dedup_insert", 16, json.dumps({"id": "a", "c": "1", "v_0a": "x"})),  # a vector field
    ("dedup_update", 10, ""),  # no field for the vector
    ("dedup_update", 15, "v_0123"),  # a vector field among the changes
    ("reembed_read", 0, "memrpc:elsewhere:"),  # keys outside the prefix
    ("reembed_read", 1, ""),  # no field
    ("reembed_write", 2, None),  # an item without its text hash and vector
    ("reembed_write", 3, ""),  # an empty vector
    ("reembed_cleanup", 1, ""),
    ("reembed_finish", 0, ""),  # no fingerprint
    ("reembed_finish", 1, "soon"),
]


def _malformed(ns: str) -> list[tuple[str, list[str], list[Arg]]]:
    """Malformed calls: each valid call with one thing wrong."""
    valid = _valid(ns)
    cases = []
    for lua, (call_keys, args) in valid.items():
        cases.append((lua, call_keys[:-1], args))  # one key too few
        if lua not in ANY_KEY_COUNT:
            cases.append((lua, [*call_keys, *call_keys[-1:] * 2], args))  # two too many
        cases.append((lua, call_keys, []))  # no arguments
    for lua, i, value in MALFORMED:
        call_keys, args = valid[lua]
        cases.append(
            (lua, call_keys, args[:i] if value is None else [*args[:i], value, *args[i + 1 :]])
        )
    return cases


async def _snapshot(client: redis.asyncio.Redis, ns: str) -> dict[bytes, bytes | None]:
    """Every key of the namespace and the model records, with its serialized
    value (None: absent)."""
    found = [key async for key in client.scan_iter(match=f"*{{{ns}}}*")]
    records = [keys.model().encode(), keys.model_next().encode()]
    return {key: await client.dump(key) for key in [*sorted(found), *records]}


async def test_every_script_refuses_malformed_arguments_before_writing(
    redis_client: redis.asyncio.Redis, ns: str
) -> None:
    # An existing session, event log and feed group the calls must leave alone.
    session = keys.session(ns, "t")
    await redis_client.hset(session, mapping={"version": 3, "turns": "[]", "turn_sizes": ""})
    await redis_client.xgroup_create(keys.feed(ns), "g", id="0", mkstream=True)
    before = await _snapshot(redis_client, ns)
    sources = {cls.LUA: scripts.source(cls) for cls in BUILDERS}
    for lua, call_keys, args in _malformed(ns):
        with pytest.raises(redis.exceptions.ResponseError, match="memrpc: bad argument"):
            await redis_client.eval(sources[lua], len(call_keys), *call_keys, *args)
        assert await _snapshot(redis_client, ns) == before, (lua, call_keys, args)


async def test_the_valid_calls_are_accepted(redis_client: redis.asyncio.Redis, ns: str) -> None:
    """The malformed calls above differ from calls the scripts take."""
    sources = {cls.LUA: scripts.source(cls) for cls in BUILDERS}
    await redis_client.xgroup_create(keys.feed(ns), "g", id="0", mkstream=True)
    for lua, (call_keys, args) in _valid(ns).items():
        if lua in ("dedup_insert", "dedup_update", "delete_memories", "memory_forget"):
            continue  # need the search index: covered by test_long_term_memory.py
        await redis_client.eval(sources[lua], len(call_keys), *call_keys, *args)


async def test_a_request_key_needs_a_fingerprint_and_a_time_to_remember_it(
    redis_client: redis.asyncio.Redis, ns: str
) -> None:
    valid = _valid(ns)
    sources = {cls.LUA: scripts.source(cls) for cls in BUILDERS}
    request = keys.turns_request(ns, "r", "t")
    # (script, ARGV index of the fingerprint): the time to remember follows it.
    for lua, at in (("append_turns", 11), ("append_events", 3)):
        call_keys, args = valid[lua]
        for fingerprint, remember_ms in (("", 1000), ("f", 0)):
            bad = [*args[:at], fingerprint, remember_ms, *args[at + 2 :]]
            with pytest.raises(redis.exceptions.ResponseError, match="memrpc: bad argument"):
                await redis_client.eval(sources[lua], len(call_keys) + 1, *call_keys, request, *bad)
    assert not await redis_client.exists(request, keys.session(ns, "t"), keys.events(ns, "t"))


def test_the_request_outcomes_are_those_of_the_lua_helpers() -> None:
    lua = (scripts.LUA_DIR / "lib" / "request_ids.lua").read_text()
    names = re.search(r"^local (REQUEST_\w+(?:, REQUEST_\w+)*) = (.*)$", lua, re.MULTILINE)
    assert names is not None
    values = dict(zip(names[1].split(", "), map(int, names[2].split(", ")), strict=True))
    assert values == {
        "REQUEST_DONE": request_ids.DONE,
        "REQUEST_REPLAYED": request_ids.REPLAYED,
        "REQUEST_REUSED": request_ids.REUSED,
    }


# -- A window whose turn_sizes disagrees with it ----------------------------------------


def _turns(*contents: str) -> pb.AppendTurnsRequest:
    return pb.AppendTurnsRequest(turns=[pb.TurnInput(role="user", content=c) for c in contents])


@pytest.mark.parametrize(
    "turn_sizes",
    [
        None,  # the field lost
        "",  # empty, for a window that is not
        "abc",  # garbled
        "10,,20",
        ",1",
        "1,2,3",  # sizes of another window
        "999999",  # more than the window
        "SWAP",  # the right sizes in the wrong order
        "EXTRA",  # the right sizes and one more
        "FEWER",  # all but the last size
    ],
)
async def test_an_append_repairs_turn_sizes_that_disagree_with_the_window(
    wm, redis_client: redis.asyncio.Redis, ns: str, turn_sizes: str | None
) -> None:
    request = _turns("one", "a longer second turn", "3")
    request.namespace, request.thread_id = ns, "t"
    ids = list((await wm.AppendTurns(request)).event_ids)
    key = keys.session(ns, "t")
    sizes = (await redis_client.hget(key, "turn_sizes")).decode().split(",")
    assert len(sizes) == 3
    if turn_sizes is None:
        await redis_client.hdel(key, "turn_sizes")
    else:
        corrupt = {
            "SWAP": ",".join([sizes[1], sizes[0], sizes[2]]),
            "EXTRA": ",".join([*sizes, "7"]),
            "FEWER": ",".join(sizes[:2]),
        }.get(turn_sizes, turn_sizes)
        await redis_client.hset(key, "turn_sizes", corrupt)
    more = _turns("four")
    more.namespace, more.thread_id, more.max_window_turns = ns, "t", 3
    response = await wm.AppendTurns(more)
    assert response.evicted_turn_count == 1
    session = (await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id="t"))).session
    assert [t.content for t in session.turns] == ["a longer second turn", "3", "four"]
    # The window's event ids stay in step with it, and the one that left counts.
    assert [t.event_id for t in session.turns] == [*ids[1:], *response.event_ids]
    assert session.summary.pending_turn_count == 1
    # Repaired for good: the sizes cut the window into its entries again.
    text, listed = await redis_client.hmget(key, "turns", "turn_sizes")
    at = 1
    for size in map(int, listed.split(b",")):
        assert json.loads(text[at : at + size])["role"] == "user"
        at += size + 1
    assert at == len(text)


async def test_a_window_that_is_not_json_starts_again_empty(
    wm, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    request = _turns("one")
    request.namespace, request.thread_id = ns, "t"
    await wm.AppendTurns(request)
    await redis_client.hset(keys.session(ns, "t"), mapping={"turns": "[{oops", "turn_sizes": "3"})
    request = _turns("two")
    request.namespace, request.thread_id = ns, "t"
    response = await wm.AppendTurns(request)
    assert response.turn_count == 2
    session = (await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id="t"))).session
    assert [t.content for t in session.turns] == ["two"]
    assert [t.event_id for t in session.turns] == list(response.event_ids)
    # The turn lost with the window has left it: its summary will fold it.
    assert session.summary.pending_turn_count == 1
