"""The Redis Cluster client (`store/cluster_mux.py`) on a `LocalCluster` of
3 primaries with a replica each, one for the module: keys of many
namespaces routed to every primary, scripts and `CROSSSLOT`, concurrency,
`MOVED` followed and learnt, `ASK` followed with `ASKING` next to its
command, a primary's failover (followed by commands, and by dedicated
connections alone); and, without a cluster, the slot of a key (CRC16
vectors, hash tags), the key of each command and the cluster URL.

The failover tests kill a primary each: they run last."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
import redis.exceptions

from memrpc import metrics
from memrpc.store.cluster_mux import ClusterAddress, ClusterMux, client_for, is_cluster_url
from memrpc.store.command_keys import key_of
from memrpc.store.hash_slot import crc16, slot_of
from memrpc.store.redis_errors import RedisUnavailable
from memrpc.store.redis_mux import RedisMux
from redis_cluster import LocalCluster, Node

T = TypeVar("T")

# How long the failover test waits for the replica's promotion at most.
FAILOVER_WAIT_S = 30.0
_PROBE_S = 0.1


def test_crc16_and_slots_match_known_vectors() -> None:
    # The spec's check value of CRC16/XMODEM, and slots Redis documents.
    assert crc16(b"123456789") == 0x31C3
    assert crc16(b"") == 0
    assert slot_of("foo") == 12182
    assert slot_of("123456789") == 0x31C3 % 16384


def test_hash_tags_follow_the_spec() -> None:
    assert slot_of("{user1000}.following") == slot_of("user1000")
    assert slot_of("memrpc:mem:{ns}:1") == slot_of("memrpc:seq:{ns}") == slot_of("ns")
    assert slot_of("foo{}{bar}") == slot_of(b"foo{}{bar}")  # `{}`: the whole key
    assert slot_of("foo{}{bar}") != slot_of("bar")
    assert slot_of("foo{{bar}}zap") == slot_of("{bar")  # up to the first `}`
    assert slot_of("foo{bar}{zap}") == slot_of("bar")  # the first tag only
    assert slot_of("no{tag") == crc16(b"no{tag") % 16384
    assert slot_of(42) == slot_of("42")


def test_the_key_of_each_command() -> None:
    assert key_of(("HGET", "k", "f")) == "k"
    assert key_of(("EVALSHA", "sha", 2, "k1", "k2", "arg")) == "k1"
    assert key_of(("EVAL", "return 1", "0", "arg")) is None
    assert key_of(("XREAD", "COUNT", 10, "BLOCK", 100, "STREAMS", "s1", "s2", "0", "0")) == "s1"
    assert key_of(("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")) == "s"
    assert key_of(("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")) == "s"
    assert key_of(("XINFO", "GROUPS", "s")) == "s"
    assert key_of(("FT.SEARCH", "idx", "*")) == "idx"
    assert key_of((b"ft.info", b"idx")) == b"idx"
    for keyless in (("FT._LIST",), ("PING",), ("INFO", "server"), ("CLUSTER", "SHARDS")):
        assert key_of(keyless) is None


def test_cluster_urls() -> None:
    address = ClusterAddress("redis+cluster://alice:s%40cret@10.0.0.1:7000,10.0.0.2:7001")
    assert [(seed.host, seed.port) for seed in address.seeds] == [
        ("10.0.0.1", 7000),
        ("10.0.0.2", 7001),
    ]
    assert all(seed.handshake() == [("AUTH", "alice", "s@cret")] for seed in address.seeds)
    assert not address.tls
    assert all(seed.tls is None for seed in address.seeds)
    assert address.where == "10.0.0.1:7000,10.0.0.2:7001"
    node = address.seeds[0].at("10.0.0.9", 7005)
    assert (node.host, node.port, node.where) == ("10.0.0.9", 7005, "10.0.0.9:7005")
    assert node.handshake() == [("AUTH", "alice", "s@cret")]

    secure = ClusterAddress("rediss+cluster://:pw@h1:1")
    assert secure.tls
    assert secure.seeds[0].tls is not None
    assert secure.seeds[0].handshake() == [("AUTH", "pw")]

    assert is_cluster_url("redis+cluster://h:1")
    assert not is_cluster_url("redis://h:1")
    assert isinstance(client_for("redis://h:1"), RedisMux)
    assert isinstance(client_for("redis+cluster://h:1"), ClusterMux)
    for bad in ("redis://h:1", "redis+cluster://h:1/2", "redis+cluster://h:1,,h:2"):
        with pytest.raises(ValueError, match=r"Redis Cluster"):
            ClusterAddress(bad)


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=1) as started:
        yield started


@pytest.fixture
async def cmux(cluster: LocalCluster) -> AsyncIterator[ClusterMux]:
    """A client seeded with one live node (every node knows the whole map)."""
    client = ClusterMux(f"redis+cluster://{cluster.live()[0].address}")
    yield client
    await client.aclose()


def _where(node: Node) -> tuple[str, int]:
    return node.host, node.port


def _tag() -> str:
    return uuid.uuid4().hex[:12]


async def test_slots_agree_with_the_cluster(cluster: LocalCluster) -> None:
    keys = [f"memrpc:mem:{{{_tag()}}}:{i}" for i in range(20)] + ["plain", "a{}b", "{x}{y}"]
    with cluster.live()[0].client() as client:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.execute_command("CLUSTER", "KEYSLOT", key)
        assert pipe.execute() == [slot_of(key) for key in keys]


async def test_keys_of_many_namespaces_reach_every_primary(
    cluster: LocalCluster, cmux: ClusterMux
) -> None:
    namespaces = [_tag() for _ in range(40)]
    for ns in namespaces:
        await cmux.execute("SET", f"memrpc:test:{{{ns}}}:v", ns)
    assert [await cmux.execute("GET", f"memrpc:test:{{{ns}}}:v") for ns in namespaces] == [
        ns.encode() for ns in namespaces
    ]
    owners = {_where(cluster.owner(slot_of(ns))) for ns in namespaces}
    assert owners == set(await cmux.primaries()) == {_where(node) for node in cluster.primaries()}
    # Each key is on its slot's owner, read there without the client.
    for ns in namespaces[:5]:
        assert cluster.owner(slot_of(ns)).command("GET", f"memrpc:test:{{{ns}}}:v") == ns
    assert cmux.redirections == 0


async def test_a_script_goes_to_its_keys_node_and_crossslot_is_an_error(
    cmux: ClusterMux,
) -> None:
    ns = _tag()
    script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[2])"
    await cmux.execute("SET", f"{{{ns}}}:b", "there")
    assert await cmux.execute("EVAL", script, 2, f"{{{ns}}}:a", f"{{{ns}}}:b", "x") == b"there"
    assert await cmux.execute("GET", f"{{{ns}}}:a") == b"x"
    other = next(tag for tag in (_tag() for _ in range(100)) if slot_of(tag) != slot_of(ns))
    async with asyncio.timeout(5):
        with pytest.raises(redis.exceptions.ResponseError, match="CROSSSLOT"):
            await cmux.execute("EVAL", script, 2, f"{{{ns}}}:a", f"{{{other}}}:b", "x")


async def test_many_commands_in_flight_to_every_node_get_their_own_replies(
    cmux: ClusterMux,
) -> None:
    keys = [f"memrpc:test:{{{_tag()}}}:c" for _ in range(60)]
    await asyncio.gather(*(cmux.execute("SET", key, key) for key in keys))
    reads = [key for _ in range(5) for key in keys]
    replies = await asyncio.gather(
        *(cmux.execute("GET", key) for key in reads), cmux.execute("PING")
    )
    assert replies == [key.encode() for key in reads] + [b"PONG"]


async def test_a_dedicated_connection_goes_to_the_node_of_its_key(
    cluster: LocalCluster, cmux: ClusterMux
) -> None:
    first = (await cmux.primaries())[0]
    streams = [f"memrpc:log:{{{_tag()}}}:t" for _ in range(60)]
    # Streams of every primary but the first (where a keyless one would go).
    streams = [s for s in streams if _where(cluster.owner(slot_of(s))) != first][:6]
    for stream in streams:
        await cmux.execute("XADD", stream, "*", "n", stream)
        async with cmux.dedicated(stream) as connection:
            read = await connection.execute("XREAD", "BLOCK", 100, "STREAMS", stream, "0")
        assert read[0][0] == stream.encode()
        assert read[0][1][0][1] == [b"n", stream.encode()]


def _other_primary(cluster: LocalCluster, node: Node) -> Node:
    return next(other for other in cluster.primaries() if other is not node)


async def test_moved_is_followed_and_the_slot_map_learns_the_new_owner(
    cluster: LocalCluster, cmux: ClusterMux, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = _tag()
    key = f"memrpc:test:{{{ns}}}:m"
    await cmux.execute("SET", key, "before")
    source = cluster.owner(slot_of(key))
    target = _other_primary(cluster, source)
    cluster.move_slot(slot_of(key), source, target)

    timed: list[tuple[str, BaseException | None]] = []
    monkeypatch.setattr(metrics, "enabled", lambda: True)
    monkeypatch.setattr(
        metrics, "redis_command", lambda name, _seconds, error: timed.append((name, error))
    )
    assert await cmux.execute("GET", key) == b"before"  # MOVED, followed
    assert cmux.redirections == 1
    # Once, though sent twice (a session's server may time its own health
    # checks meanwhile: `PING`).
    assert [entry for entry in timed if entry[0] != "PING"] == [("GET", None)]
    monkeypatch.undo()
    assert await cmux.execute("SET", key, "after") == b"OK"  # straight to the new owner
    assert await cmux.execute("GET", key) == b"after"
    assert cmux.redirections == 1
    assert target.command("GET", key) == "after"


async def test_ask_reads_a_migrated_key_on_the_target_and_the_rest_on_the_source(
    cluster: LocalCluster, cmux: ClusterMux
) -> None:
    ns = _tag()
    keys = [f"memrpc:test:{{{ns}}}:{i}" for i in range(40)]
    for key in keys:
        await cmux.execute("SET", key, key)
    slot = slot_of(ns)
    source = cluster.owner(slot)
    target = _other_primary(cluster, source)
    # Commands for the target's own slots, in flight with the ASK reads.
    target_keys = [
        key
        for key in (f"memrpc:test:{{{_tag()}}}:t" for _ in range(200))
        if cluster.owner(slot_of(key)) is target
    ][:20]
    for key in target_keys:
        await cmux.execute("SET", key, key)
    cluster.begin_slot_move(slot, source, target)
    try:
        moved, stayed = keys[:20], keys[20:]
        cluster.migrate(source, target, moved)
        # The ASK replies come together: each read sends ASKING and itself at
        # once, so concurrent ones cannot get between them.
        replies = await asyncio.gather(
            *(cmux.execute("GET", key) for key in [*moved, *target_keys, *stayed])
        )
        assert replies == [key.encode() for key in [*moved, *target_keys, *stayed]]
        assert cmux.redirections == len(moved)
        assert source.command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(stayed)
    finally:
        cluster.move_slot(slot, source, target)
    assert await cmux.execute("GET", keys[-1]) == keys[-1].encode()


async def test_a_second_redirection_raises(cluster: LocalCluster, cmux: ClusterMux) -> None:
    await cmux.execute("PING")  # the map is read before the slots change
    # ASK, then MOVED: the source migrates the slot and the target does not
    # import it, so the source answers ASK (the key is absent everywhere) and
    # the target MOVED back.
    key = f"memrpc:test:{{{_tag()}}}:r"
    slot = slot_of(key)
    source = cluster.owner(slot)
    target = _other_primary(cluster, source)
    source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
    try:
        async with asyncio.timeout(5):
            with pytest.raises(redis.exceptions.MovedError):
                await cmux.execute("GET", key)
        assert cmux.redirections == 1
    finally:
        source.command("CLUSTER", "SETSLOT", slot, "STABLE")

    # MOVED, then ASK: the slot moved (the client's map does not know yet),
    # and its new owner migrates it back to a node that does not import it.
    key = f"memrpc:test:{{{_tag()}}}:r"
    slot = slot_of(key)
    source = cluster.owner(slot)
    target = _other_primary(cluster, source)
    cluster.move_slot(slot, source, target)
    target.command("CLUSTER", "SETSLOT", slot, "MIGRATING", source.node_id)
    try:
        async with asyncio.timeout(5):
            with pytest.raises(redis.exceptions.AskError):
                await cmux.execute("GET", key)
        assert cmux.redirections == 2
    finally:
        target.command("CLUSTER", "SETSLOT", slot, "STABLE")


async def after_failover(call: Callable[[], Awaitable[T]]) -> tuple[T, list[Exception]]:
    """`call()`'s reply once the cluster has failed over (tried every
    `_PROBE_S`, for `FAILOVER_WAIT_S` at most), and the failures before it."""
    failures: list[Exception] = []
    deadline = time.monotonic() + FAILOVER_WAIT_S
    while True:
        try:
            return await call(), failures
        except (redis.exceptions.ConnectionError, RedisUnavailable) as exc:
            failures.append(exc)
        assert time.monotonic() < deadline, f"no failover in {FAILOVER_WAIT_S} s: {failures[-3:]}"
        await asyncio.sleep(_PROBE_S)


async def test_a_primary_killed_fails_its_commands_until_its_replica_takes_over(
    cluster: LocalCluster, cmux: ClusterMux
) -> None:
    ns = _tag()
    key = f"memrpc:test:{{{ns}}}:f"
    await cmux.execute("SET", key, "kept")
    primary = cluster.owner(slot_of(key))
    assert await cmux.execute_on(_where(primary), "WAIT", 1, 2000) == 1
    cluster.kill(primary)

    reply, failures = await after_failover(lambda: cmux.execute("GET", key))
    assert reply == b"kept"
    assert failures  # the primary's loss was seen, not hidden
    assert _where(primary) not in await cmux.primaries()


async def test_dedicated_connections_reach_the_replica_that_took_over(
    cluster: LocalCluster, cmux: ClusterMux
) -> None:
    # Runs after the test above: a primary that still has its replica.
    primary = next(node for node in cluster.primaries() if cluster.replicas_of(node))
    key = f"memrpc:test:{{{_tag()}}}:f"
    for _ in range(1000):  # a key of that primary's slots
        if cluster.owner(slot_of(key)) is primary:
            break
        key = f"memrpc:test:{{{_tag()}}}:f"
    await cmux.execute("SET", key, "kept")
    assert await cmux.execute_on(_where(primary), "WAIT", 1, 2000) == 1
    cluster.kill(primary)

    # Only connections of their own, as tail and job readers open: a node
    # they cannot reach has the slot map read again.
    async def read_alone() -> Any:
        async with cmux.dedicated(key) as connection:
            return await connection.execute("GET", key)

    reply, _ = await after_failover(read_alone)
    assert reply == b"kept"
    assert _where(primary) not in await cmux.primaries()
