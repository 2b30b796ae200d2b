"""The Redis Cluster spike (issue 18): what memrpc's index, scripts and
streams do on a cluster of the embedded valkey with both modules, printed
as evidence (docs/cluster-spike.md records a run).

```sh
.venv/bin/python -m bench.cluster_spike          # from the repository root
```

It starts a `tests/redis_cluster.py` cluster (3 primaries, 1 replica each,
`cluster-node-timeout` 1500 ms), writes a few memories and events, and
stops it; about half a minute, little CPU. Sections:

- a. `FT.CREATE` of memrpc's index on every primary; what each shard's
  index finds.
- b. `LongTermStore.create` (`lua/dedup_insert.lua`, which searches from
  inside the script) on a `RedisMux` connected to the namespace's primary;
  scripts' key rules.
- c. A namespace's streams on its shard; `XREAD` across namespaces.
- d. A namespace's slot moved (`MIGRATING`/`IMPORTING`, `MIGRATE`, `SETSLOT
  NODE`) under writes: indexes, errors, signals; then a primary that joins.
- e. Failover of a primary: promotion, the index on replicas, `WAIT`,
  `WAITAOF`.
- f. Where the keys outside every namespace land.
- g. What an index per namespace would cost (one plain server): Redis
  memory per empty index, and per namespace once each holds a few memories.

Every wait is bounded; nothing here runs long.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import redis.exceptions
from tests.redis_cluster import LocalCluster, Node

from bench.redis_memory import used_memory
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.store import keys, long_term, scripts
from memrpc.store.long_term import Created, LongTermStore, MemoryPatch, NewMemory
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import (
    INDEX,
    MemoryFilter,
    create_command,
    filter_query,
)
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import Arg, Connection, RedisAddress, RedisMux
from memrpc.store.script_args import ModelRecord

DIM = 384
VECTOR_TYPE = VectorType.FLOAT16
MAX_DISTANCE = 0.1
FAILOVER_TIMEOUT_S = 20.0
POLL_S = 0.1


def say(label: str, value: Any = "") -> None:
    print(f"  {label}: {value}" if value != "" else f"  {label}", flush=True)


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def err(exc: BaseException) -> str:
    return f"!! {type(exc).__name__}: {exc}"


async def attempt(label: str, call: Awaitable[Any]) -> Any:
    """Prints what `call` returns or raises; returns the reply or the error."""
    try:
        reply = await call
    except Exception as exc:  # the spike reports every outcome
        say(label, err(exc))
        return exc
    say(label, short(reply))
    return reply


def short(reply: Any, limit: int = 300) -> str:
    text = repr(reply)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def vector(rng: np.random.Generator) -> np.ndarray[Any, np.dtype[np.float32]]:
    v = rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


class AskingMux(RedisMux):
    """A `RedisMux` that sends `ASKING` right before each command, on the
    same connection: what a client following an `ASK` redirection does."""

    async def reply(self, args: tuple[Arg, ...], script: str | None) -> Any:
        connection = await self.shared()
        asked = connection.execute("ASKING")
        reply = connection.execute(*args)
        await asked
        return await reply


class Spike:
    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.muxes: dict[int, RedisMux] = {}
        self.rng = np.random.default_rng(18)

    def mux(self, node: Node) -> RedisMux:
        if node.port not in self.muxes:
            self.muxes[node.port] = RedisMux(node.url, command_timeout=5.0)
        return self.muxes[node.port]

    async def close(self) -> None:
        for mux in self.muxes.values():
            await mux.aclose()

    def slot_of_ns(self, ns: str) -> int:
        return self.cluster.slot_of(keys.memory(ns, "x"))

    def store(self, node: Node) -> LongTermStore:
        """A store whose commands all go to `node`, except `memrpc:namespaces`,
        which goes to its owner. Its index: see `using`."""
        store = LongTermStore(self.mux(node), dim=DIM, vector_type=VECTOR_TYPE)
        owner = self.cluster.owner(self.cluster.slot_of(keys.namespaces()))
        store.namespaces = NamespaceSet(self.mux(owner))
        store.legacy.active = False  # no schema 2 index here (`LegacySearch.find` says so)
        return store

    def served_by(self, node: Node) -> Node:
        """`node` if it is a primary, else its primary."""
        if node.role() == "primary":
            return node
        port = int(node.info_field("replication", "master_port"))
        return next(peer for peer in self.cluster.nodes if peer.port == port)

    def local_index_name(self, node: Node, avoid: set[int]) -> str:
        """A name for `node`'s index that hashes to a slot it serves, none of `avoid`."""
        for i in range(5000):
            name = f"{INDEX}:{{s{i}}}"
            slot = self.cluster.slot_of(name)
            if slot not in avoid and self.cluster.owner(slot) is node:
                return name
        raise LookupError(f"no index name for {node.address}")

    def index_of(self, node: Node) -> str:
        """The memories' index on `node` (`FT._LIST`, keyless) whose name
        hashes to a slot its shard serves."""
        primary = self.served_by(node)
        for name in node.command("FT._LIST"):
            if (
                str(name).startswith(INDEX)
                and self.cluster.owner(self.cluster.slot_of(name)) is primary
            ):
                return str(name)
        raise LookupError(f"no index reachable on {node.address}")

    @contextlib.contextmanager
    def using(self, node: Node) -> Iterator[str]:
        """`LongTermStore` writes with `long_term.INDEX` as the index its
        scripts search: the name of `node`'s index while this lasts."""
        module = vars(long_term)  # the name `create` and `update` read at each call
        saved = module["INDEX"]
        module["INDEX"] = name = self.index_of(node)
        try:
            yield name
        finally:
            module["INDEX"] = saved

    async def create(
        self, node: Node, ns: str, items: list[NewMemory], store: LongTermStore | None = None
    ) -> list[Created]:
        """`LongTermStore.create` on `node` (or with `store`), searching `node`'s index."""
        with self.using(node):
            return await (store or self.store(node)).create(ns, items, max_distance=MAX_DISTANCE)

    async def ns_docs(self, node: Node, ns: str) -> list[str]:
        """The keys of `ns`'s live memories that `node`'s index finds (on a
        replica: after `READONLY`)."""
        query = filter_query(ns, int(time.time() * 1000), MemoryFilter())
        reply = await self.search(node, query, "NOCONTENT", "LIMIT", 0, 100, "DIALECT", 2)
        return sorted(key.decode() for key in reply[1:])

    async def all_docs(self, node: Node) -> int:
        reply = await self.search(node, "*", "NOCONTENT", "LIMIT", 0, 0)
        return int(reply[0])

    async def search(self, node: Node, *args: Arg) -> Any:
        name = self.index_of(node)
        connection = await Connection.open(
            RedisAddress(node.url), connect_timeout=2.0, command_timeout=5.0
        )
        try:
            if node.role() == "replica":
                await connection.execute("READONLY")
            return await connection.execute("FT.SEARCH", name, *args)
        finally:
            connection.close()

    def items(self, texts: list[str]) -> list[NewMemory]:
        return [NewMemory(text=text, embedding=vector(self.rng), user_id="u1") for text in texts]

    def pick_namespaces(self) -> tuple[str, str, str]:
        """Three namespaces, on three different primaries; the first on
        another primary than `memrpc:namespaces`."""
        global_owner = self.cluster.owner(self.cluster.slot_of(keys.namespaces()))
        chosen: dict[int, str] = {}
        for i in range(200):
            ns = f"ns{i}"
            owner = self.cluster.owner(self.slot_of_ns(ns))
            if not chosen and owner is global_owner:
                continue
            chosen.setdefault(owner.port, ns)
            if len(chosen) == 3:
                break
        a, b, c = chosen.values()
        return a, b, c

    def where(self, ns: str) -> str:
        slot = self.slot_of_ns(ns)
        return f"{ns} -> slot {slot} on {self.cluster.owner(slot).address}"

    # -- sections -------------------------------------------------------

    async def run(self) -> None:
        cluster = self.cluster
        section("cluster")
        for node in cluster.nodes:
            say(f"{node.address}", f"{node.role()} id {node.node_id[:8]}")
        ns_a, ns_b, ns_c = self.pick_namespaces()
        for ns in (ns_a, ns_b, ns_c):
            say(self.where(ns))
        # Index names stay off the slots this spike moves.
        avoid = {self.slot_of_ns(ns_a), self.slot_of_ns(ns_c)}
        await self.index_on_every_primary(ns_a, ns_b, avoid)
        await self.script_on_owner(ns_a, ns_b)
        await self.streams(ns_a, ns_b)
        target = await self.slot_migration(ns_a)
        await self.joining_primary(ns_c)
        await self.atomic_migration(ns_b)
        await self.failover(ns_a, target)
        await self.global_keys()

    async def index_on_every_primary(self, ns_a: str, ns_b: str, avoid: set[int]) -> None:
        section("a. FT.CREATE on every primary; what each shard's index finds")
        cluster = self.cluster
        slot = cluster.slot_of(INDEX)
        say(f"{INDEX} hashes to slot {slot}, served by {cluster.owner(slot).address}")
        for node in cluster.primaries():
            await attempt(
                f"FT.CREATE {INDEX} on primary {node.address}",
                self.mux(node).execute(*create_command(DIM, VECTOR_TYPE)),
            )
        await attempt(
            f"FT.DROPINDEX {INDEX} on {cluster.owner(slot).address} (where it was made)",
            self.mux(cluster.owner(slot)).execute("FT.DROPINDEX", INDEX),
        )
        for node in cluster.primaries():
            command = create_command(DIM, VECTOR_TYPE)
            command[1] = self.local_index_name(node, avoid)
            await attempt(
                f"FT.CREATE {command[1]} (slot {cluster.slot_of(str(command[1]))}) "
                f"on primary {node.address}",
                self.mux(node).execute(*command),
            )
        await asyncio.sleep(0.5)
        for node in cluster.live():
            await attempt(
                f"FT._LIST on {node.role()} {node.address}", self.mux(node).execute("FT._LIST")
            )
        primary = cluster.primaries()[0]
        replica = cluster.replicas_of(primary)[0]
        await attempt(
            f"FT.CREATE on replica {replica.address} of a name its shard serves",
            self.mux(replica).execute(
                "FT.CREATE",
                self.local_index_name(primary, avoid) + "x",
                "ON",
                "HASH",
                "PREFIX",
                1,
                "spike:",
                "SCHEMA",
                "f",
                "TEXT",
            ),
        )
        owner_a = cluster.owner(self.slot_of_ns(ns_a))
        owner_b = cluster.owner(self.slot_of_ns(ns_b))
        await self.create(owner_a, ns_a, self.items(["a first", "a second", "a third"]))
        await self.create(owner_b, ns_b, self.items(["b first", "b second"]))
        for node in cluster.primaries():
            say(
                f"primary {node.address}: its index holds {await self.all_docs(node)} docs, "
                f"{ns_a}'s {len(await self.ns_docs(node, ns_a))}, "
                f"{ns_b}'s {len(await self.ns_docs(node, ns_b))}"
            )
        other = next(node for node in cluster.primaries() if node is not owner_a)
        await attempt(
            f"FT.SEARCH of {owner_a.address}'s index name sent to {other.address}",
            self.mux(other).execute("FT.SEARCH", self.index_of(owner_a), "*", "LIMIT", 0, 0),
        )
        await asyncio.sleep(0.3)
        for node in cluster.live():
            if node.role() == "replica":
                name = self.index_of(node)
                await attempt(
                    f"FT.SEARCH {name} * on replica {node.address}, no READONLY",
                    self.mux(node).execute("FT.SEARCH", name, "*", "LIMIT", 0, 0),
                )
                await attempt("  the same after READONLY, count", self.all_docs(node))

    async def script_on_owner(self, ns_a: str, ns_b: str) -> None:
        section("b. dedup_insert.lua (FT.SEARCH inside the script) on the owning primary")
        cluster = self.cluster
        owner = cluster.owner(self.slot_of_ns(ns_a))
        other = cluster.owner(self.slot_of_ns(ns_b))
        store = self.store(owner)
        await store.legacy.find()
        say("legacy index present (LegacySearch.find, FT._LIST)", store.legacy.active)
        await attempt(
            f"create in {ns_a} on its primary, the script searching {INDEX} (slot "
            f"{cluster.slot_of(INDEX)}, another node's)",
            store.create(ns_a, self.items(["unindexed"]), max_distance=MAX_DISTANCE),
        )
        v1 = vector(self.rng)
        near = v1 + 0.02 * vector(self.rng)
        near /= np.linalg.norm(near)
        items = [
            NewMemory(text="alpha fact", embedding=v1, user_id="u1"),
            NewMemory(text="alpha fact", embedding=vector(self.rng), user_id="u1"),
            NewMemory(text="alpha fact, reworded", embedding=near, user_id="u1"),
            NewMemory(text="beta fact", embedding=vector(self.rng), user_id="u1"),
        ]
        name = self.index_of(owner)
        created = await attempt(
            f"create 4 items in {ns_a} on its primary {owner.address}, script searching "
            f"{name} (slot {cluster.slot_of(name)}; {ns_a} is slot {self.slot_of_ns(ns_a)})",
            self.create(owner, ns_a, items, store),
        )
        if isinstance(created, list):
            for item, outcome in zip(items, created, strict=True):
                say(
                    f"  {item.text!r}",
                    f"created={outcome.created} distance={outcome.distance:.4f} "
                    f"id={outcome.memory_id}",
                )
        repeat = await attempt(
            "same text again, a later call (dedup hits a memory the script did not declare)",
            self.create(owner, ns_a, items[:1], store),
        )
        if isinstance(repeat, list):
            say(
                "  outcome",
                f"created={repeat[0].created} hits={getattr(repeat[0].memory, 'hit_count', None)}",
            )
        wrong = LongTermStore(self.mux(other), dim=DIM, vector_type=VECTOR_TYPE)
        wrong.namespaces = store.namespaces
        wrong.legacy.active = False
        await attempt(
            f"create in {ns_a} on another primary {other.address} (its own index)",
            self.create(other, ns_a, self.items(["misrouted"]), wrong),
        )
        plain = LongTermStore(self.mux(owner), dim=DIM, vector_type=VECTOR_TYPE)
        await attempt(
            f"an unpatched store's NamespaceSet.note (SADD {keys.namespaces()}) on {owner.address}",
            plain.namespaces.note(ns_a),
        )
        mux = self.mux(owner)
        seq = keys.memory_sequence(ns_a)
        same_slot = keys.memory(ns_a, "undeclared")
        await mux.execute("SET", same_slot, "here")
        other_slot = keys.memory_sequence(ns_b)
        other_here = next(
            f"spike:{i}"
            for i in range(1000)
            if cluster.owner(cluster.slot_of(f"spike:{i}")) is owner
            and cluster.slot_of(f"spike:{i}") != self.slot_of_ns(ns_a)
        )
        script = "return redis.call('GET', ARGV[1])"
        await attempt(
            "EVAL declaring KEYS[1]=memseq, reading an undeclared key of the same slot",
            mux.execute("EVAL", script, 1, seq, same_slot),
        )
        await attempt(
            "EVAL declaring KEYS[1]=memseq, reading an undeclared key of another slot, same node",
            mux.execute("EVAL", script, 1, seq, other_here),
        )
        await attempt(
            "EVAL declaring KEYS[1]=memseq, reading an undeclared key on another node",
            mux.execute("EVAL", script, 1, seq, other_slot),
        )
        await attempt(
            "EVAL declaring no key, reading a key of the node",
            mux.execute("EVAL", script, 0, same_slot),
        )
        await attempt(
            "EVAL declaring keys of two slots",
            mux.execute("EVAL", "return 1", 2, seq, other_here),
        )
        await mux.execute("DEL", same_slot)
        per_ns = f"memrpc:idx:{{{ns_a}}}"
        await attempt(
            f"FT.CREATE {per_ns} (the namespace's own slot) PREFIX {keys.memory(ns_a, '')}",
            mux.execute(
                "FT.CREATE",
                per_ns,
                "ON",
                "HASH",
                "PREFIX",
                1,
                keys.memory(ns_a, ""),
                "SCHEMA",
                "body",
                "TEXT",
            ),
        )
        await asyncio.sleep(0.3)
        search = "return redis.call('FT.SEARCH', ARGV[1], '*', 'LIMIT', 0, 0)"
        await attempt(
            f"EVAL declaring KEYS[1]=memseq, FT.SEARCH {per_ns} '*' inside",
            mux.execute("EVAL", search, 1, seq, per_ns),
        )
        await attempt(
            f"EVAL declaring KEYS[1]=memseq, FT.SEARCH {name} '*' inside",
            mux.execute("EVAL", search, 1, seq, name),
        )
        await attempt(
            f"EVAL declaring KEYS[1]=memseq, FT.SEARCH {INDEX} '*' inside (another node's slot)",
            mux.execute("EVAL", search, 1, seq, INDEX),
        )
        await mux.execute("FT.DROPINDEX", per_ns)

    async def streams(self, ns_a: str, ns_b: str) -> None:
        section("c. streams of a namespace on its shard")
        cluster = self.cluster
        owner = cluster.owner(self.slot_of_ns(ns_a))
        mux = self.mux(owner)
        t1, t2 = keys.events(ns_a, "t1"), keys.events(ns_a, "t2")
        b1 = keys.events(ns_b, "t1")
        for key in (t1, t1, t2):
            await mux.execute("XADD", key, "*", "e", "x")
        await self.mux(cluster.owner(cluster.slot_of(b1))).execute("XADD", b1, "*", "e", "y")
        await attempt(
            f"XREAD over two threads of {ns_a}",
            mux.execute("XREAD", "COUNT", 10, "STREAMS", t1, t2, "0", "0"),
        )
        await attempt(
            f"XREAD over {ns_a}:t1 and {ns_b}:t1 (on {ns_a}'s node)",
            mux.execute("XREAD", "COUNT", 10, "STREAMS", t1, b1, "0", "0"),
        )
        same_node = next(
            f"ns{i}"
            for i in range(200)
            if cluster.owner(self.slot_of_ns(f"ns{i}")) is owner
            and self.slot_of_ns(f"ns{i}") != self.slot_of_ns(ns_a)
        )
        s1 = keys.events(same_node, "t1")
        await mux.execute("XADD", s1, "*", "e", "z")
        await attempt(
            f"XREAD over {ns_a}:t1 and {same_node}:t1 (other slot, same node)",
            mux.execute("XREAD", "COUNT", 10, "STREAMS", t1, s1, "0", "0"),
        )
        await attempt(
            f"XREAD of {ns_b}:t1 alone on {ns_a}'s node",
            mux.execute("XREAD", "COUNT", 10, "STREAMS", b1, "0"),
        )
        feed = keys.feed(ns_a)
        await attempt(
            "XGROUP CREATE feed g MKSTREAM",
            mux.execute("XGROUP", "CREATE", feed, "g", "0", "MKSTREAM"),
        )
        for _ in range(3):
            await mux.execute("XADD", feed, "*", "e", "f")
        await attempt(
            "XREADGROUP g c1 >",
            mux.execute("XREADGROUP", "GROUP", "g", "c1", "COUNT", 10, "STREAMS", feed, ">"),
        )
        await attempt(
            "XAUTOCLAIM g c2 min-idle 0",
            mux.execute("XAUTOCLAIM", feed, "g", "c2", 0, "0-0", "COUNT", 10),
        )
        async with mux.dedicated() as conn:
            began = time.monotonic()
            reply = await conn.execute("XREAD", "BLOCK", 200, "STREAMS", t1, t2, "$", "$", wait=0.2)
            say(
                f"XREAD BLOCK 200 over two threads of {ns_a}",
                f"{reply!r} after {time.monotonic() - began:.2f} s",
            )

    async def slot_migration(self, ns: str) -> Node:  # noqa: PLR0915 (a spike's script)
        section(f"d. moving {ns}'s slot under writes")
        cluster = self.cluster
        slot = self.slot_of_ns(ns)
        source = cluster.owner(slot)
        target = next(node for node in cluster.primaries() if node is not source)
        say(f"slot {slot}: {source.address} -> {target.address}")
        store_src, store_tgt = self.store(source), self.store(target)
        await self.create(source, ns, self.items([f"moving {i}" for i in range(4)]))
        docs = await self.ns_docs(source, ns)
        say(
            f"before: source index {len(docs)} of {ns}, "
            f"target {len(await self.ns_docs(target, ns))}; "
            f"COUNTKEYSINSLOT source {source.command('CLUSTER', 'COUNTKEYSINSLOT', slot)}"
        )
        cluster.begin_slot_move(slot, source, target)
        say("slot marked IMPORTING on target, MIGRATING on source")
        for node, name in ((source, "source"), (target, "target")):
            myself = next(
                line
                for line in str(node.command("CLUSTER", "NODES")).splitlines()
                if "myself" in line
            )
            say(f"CLUSTER NODES, {name}'s own line", myself.split(" ", 8)[-1])
        shards = source.command("CLUSTER", "SHARDS")
        say("CLUSTER SHARDS on source mentions the migration", "migrat" in repr(shards).lower())
        half = docs[: len(docs) // 2]
        began = time.monotonic()
        cluster.migrate(source, target, half)
        say(f"MIGRATE of {len(half)} memories", f"{(time.monotonic() - began) * 1000:.1f} ms")
        say("just after: FT.SEARCH", await self.both(source, target, ns))
        say(
            "COUNTKEYSINSLOT",
            f"source {source.command('CLUSTER', 'COUNTKEYSINSLOT', slot)}, "
            f"target {target.command('CLUSTER', 'COUNTKEYSINSLOT', slot)}",
        )
        moved_key, kept_key = half[0], docs[-1]
        src, tgt = self.mux(source), self.mux(target)
        ask = AskingMux(target.url)
        store_ask = LongTermStore(ask, dim=DIM, vector_type=VECTOR_TYPE)
        store_ask.namespaces = store_tgt.namespaces
        store_ask.legacy.active = False
        await attempt("HGET of a moved memory on source", src.execute("HGET", moved_key, "id"))
        await attempt("HGET of a kept memory on source", src.execute("HGET", kept_key, "id"))
        await attempt(
            "HGET of a moved memory on target, no ASKING",
            tgt.execute("HGET", moved_key, "id"),
        )
        await attempt(
            "ASKING + HGET of a moved memory on target", ask.execute("HGET", moved_key, "id")
        )
        await attempt(
            "ASKING + HGET of a memory that is on source, on target",
            ask.execute("HGET", kept_key, "id"),
        )
        await attempt(
            "HGET of an absent key of the slot on source",
            src.execute("HGET", keys.memory(ns, "absent"), "id"),
        )
        await attempt(
            "create (memseq still on source) on source",
            self.create(source, ns, self.items(["during move 1"]), store_src),
        )
        await attempt(
            "ASKING + create on target",
            self.create(target, ns, self.items(["during move 2"]), store_ask),
        )
        seq = keys.memory_sequence(ns)
        cluster.migrate(source, target, [seq])
        say("memseq migrated too")
        await attempt(
            "create (no key of the call left on source) on source",
            self.create(source, ns, self.items(["during move 3"]), store_src),
        )
        await attempt(
            "ASKING + create on target (memseq there)",
            self.create(target, ns, self.items(["during move 4"]), store_ask),
        )
        await attempt(
            "HINCRBY of a kept memory on source (single key, present)",
            src.execute("HINCRBY", kept_key, "h", 0),
        )
        moved_text = (await ask.execute("HGET", moved_key, "t")).decode()
        kept_id = kept_key.rsplit(":", 1)[1]
        patch = MemoryPatch(text=moved_text, embedding=vector(self.rng))
        with self.using(source):
            await attempt(
                f"update of a kept memory on source to the text of a moved one ({moved_text!r})",
                store_src.update(ns, kept_id, patch, max_distance=MAX_DISTANCE),
            )
        await attempt(
            "FT.SEARCH on source and target, mid-move",
            self.both(source, target, ns),
        )
        rest = 0
        began = time.monotonic()
        for _ in range(100):
            moved = cluster.migrate_keys(slot, source, target, 100)
            if not moved:
                break
            rest += len(moved)
        say(
            f"rest of the slot migrated: {rest} keys", f"{(time.monotonic() - began) * 1000:.1f} ms"
        )
        cluster.finish_slot_move(slot, target)
        say("SETSLOT NODE target on target and every primary")
        texts = [
            (await tgt.execute("HGET", key, "t")).decode() for key in await self.ns_docs(target, ns)
        ]
        say(f"memories of {ns} whose text is {moved_text!r} now", texts.count(moved_text))
        await ask.aclose()
        await attempt("HGET of a memory on source", src.execute("HGET", kept_key, "id"))
        await attempt("FT.SEARCH on source and target, after", self.both(source, target, ns))
        await attempt(
            "create on source, after",
            self.create(source, ns, self.items(["after 1"]), store_src),
        )
        repeat = await attempt(
            "create on target, after: same text as a moved memory ('moving 0')",
            self.create(target, ns, self.items(["moving 0"]), store_tgt),
        )
        if isinstance(repeat, list):
            say("  outcome", f"created={repeat[0].created} distance={repeat[0].distance}")
        return target

    async def both(self, source: Node, target: Node, ns: str) -> str:
        return (
            f"source {len(await self.ns_docs(source, ns))}, "
            f"target {len(await self.ns_docs(target, ns))}"
        )

    async def joining_primary(self, ns: str) -> None:
        section(f"d2. a primary that joins, given {ns}'s slot")
        cluster = self.cluster
        slot = self.slot_of_ns(ns)
        source = cluster.owner(slot)
        await self.create(source, ns, self.items([f"c {i}" for i in range(3)]))
        joined = cluster.add_primary()
        say(f"new primary {joined.address} met the cluster")
        await attempt("FT._LIST on it", self.mux(joined).execute("FT._LIST"))
        moved = cluster.move_slot(slot, source, joined)
        say(f"slot {slot} moved to it", f"{moved} keys")
        await attempt("its index before FT.CREATE", self.ns_docs(joined, ns))
        command = create_command(DIM, VECTOR_TYPE)
        await attempt(
            f"FT.CREATE {INDEX} on it (slot {cluster.slot_of(INDEX)})",
            self.mux(joined).execute(*command),
        )
        command[1] = f"{INDEX}:{{{ns}}}"
        await attempt(
            f"FT.CREATE {command[1]} on it (slot {cluster.slot_of(str(command[1]))}, its only one)",
            self.mux(joined).execute(*command),
        )
        began = time.monotonic()
        found: Any = None
        for _ in range(50):
            found = await self.ns_docs(joined, ns)
            if len(found) >= 3:
                break
            await asyncio.sleep(POLL_S)
        say(
            "its index after FT.CREATE",
            f"{len(found)} of {ns}'s memories, after {time.monotonic() - began:.2f} s",
        )

    async def atomic_migration(self, ns: str) -> None:
        section(f"d3. valkey 9's atomic slot migration (CLUSTER MIGRATESLOTS) of {ns}'s slot")
        cluster = self.cluster
        slot = self.slot_of_ns(ns)
        source = cluster.owner(slot)
        target = next(
            node
            for node in cluster.primaries()
            if node is not source and self.index_of_or_none(node) is not None
        )
        await self.create(source, ns, self.items([f"b atomic {i}" for i in range(3)]))
        docs = await self.ns_docs(source, ns)
        say(f"slot {slot}: {source.address} -> {target.address}; source index {len(docs)} of {ns}")
        began = time.monotonic()
        reply = await attempt(
            "CLUSTER MIGRATESLOTS",
            self.mux(source).execute(
                "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", slot, slot, "NODE", target.node_id
            ),
        )
        if isinstance(reply, Exception):
            return
        seen: dict[str, list[tuple[float, str]]] = {}

        def note(label: str, outcome: str) -> None:
            history = seen.setdefault(label, [])
            if not history or history[-1][1] != outcome:
                history.append((time.monotonic() - began, outcome))

        for _ in range(int(10 / POLL_S * 5)):
            owner = cluster.owner(slot)
            note("owner", owner.address)
            for name, node in (("source", source), ("target", target)):
                try:
                    found = await self.ns_docs(node, ns)
                    note(f"{name} index", f"{len(found)} of {ns}")
                except Exception as exc:
                    note(f"{name} index", err(exc))
                try:
                    await self.mux(node).execute("HGET", docs[0], "id")
                    note(f"HGET on {name}", "ok")
                except Exception as exc:
                    note(f"HGET on {name}", err(exc))
            if owner is target and len(seen["target index"]) > 1 and time.monotonic() - began > 1:
                break
            await asyncio.sleep(POLL_S / 5)
        for label, history in seen.items():
            say(label, ", ".join(f"{when:.3f} s {outcome}" for when, outcome in history))
        await attempt(
            "CLUSTER GETSLOTMIGRATIONS on source",
            self.mux(source).execute("CLUSTER", "GETSLOTMIGRATIONS"),
        )
        await asyncio.sleep(0.5)
        await attempt("target index 0.5 s later", self.ns_docs(target, ns))

    def index_of_or_none(self, node: Node) -> str | None:
        try:
            return self.index_of(node)
        except LookupError:
            return None

    async def failover(self, ns: str, primary: Node) -> None:  # noqa: PLR0915
        section(f"e. failover of {primary.address} (owns {ns})")
        cluster = self.cluster
        replica = cluster.replicas_of(primary)[0]
        say(
            f"its replica {replica.address}",
            f"{len(await self.ns_docs(replica, ns))} of {ns}'s memories in its index",
        )
        mux = self.mux(primary)
        began = time.monotonic()
        await attempt("WAIT 1 500 on the primary", mux.execute("WAIT", 1, 500))
        say("  took", f"{time.monotonic() - began:.3f} s")
        began = time.monotonic()
        await attempt("WAITAOF 1 1 500 on the primary", mux.execute("WAITAOF", 1, 1, 500))
        say("  took", f"{time.monotonic() - began:.3f} s")
        bystander = next(node for node in cluster.primaries() if node is not primary)
        by_key = next(
            f"spike:{i}"
            for i in range(1000)
            if cluster.owner(cluster.slot_of(f"spike:{i}")) is bystander
        )
        cluster.kill(primary)
        killed = time.monotonic()
        say("primary killed (SIGKILL)")
        # Each probe's outcomes, as they change: (seconds since the kill, outcome).
        seen: dict[str, list[tuple[float, str]]] = {}

        def note(label: str, outcome: str) -> None:
            history = seen.setdefault(label, [])
            if not history or history[-1][1] != outcome:
                history.append((time.monotonic() - killed, outcome))

        promoted_after = None
        for _ in range(int(FAILOVER_TIMEOUT_S / POLL_S)):
            for label, node, args in (
                ("SET on another primary", bystander, ("SET", by_key, "1")),
                (
                    f"HGET of {ns}'s key on the replica",
                    replica,
                    ("HGET", keys.memory(ns, "x"), "id"),
                ),
            ):
                try:
                    await self.mux(node).execute(*args)
                    note(label, "ok")
                except (redis.exceptions.RedisError, OSError) as exc:
                    note(label, err(exc))
            note("cluster_state on another primary", bystander.cluster_info("cluster_state"))
            if promoted_after is None and replica.role() == "primary":
                promoted_after = time.monotonic() - killed
            if promoted_after is not None and time.monotonic() - killed > promoted_after + 1.0:
                break
            await asyncio.sleep(POLL_S)
        say("replica promoted after", f"{promoted_after} s")
        for label, history in seen.items():
            say(label, ", ".join(f"{when:.2f} s {outcome}" for when, outcome in history))
        say("wait_ok after promotion", f"{cluster.wait_ok(FAILOVER_TIMEOUT_S):.2f} s more")
        await attempt("FT._LIST on the promoted replica", self.mux(replica).execute("FT._LIST"))
        say(f"{ns}'s memories in its index", len(await self.ns_docs(replica, ns)))
        kept = (await self.ns_docs(replica, ns))[0]
        text = (await self.mux(replica).execute("HGET", kept, "t")).decode()
        outcome = await attempt(
            f"create on it: the text of a memory written before the failover ({text!r})",
            self.create(replica, ns, self.items([text])),
        )
        if isinstance(outcome, list):
            say("  outcome", f"created={outcome[0].created}")
        rmux = self.mux(replica)
        began = time.monotonic()
        await attempt("WAIT 1 300 on it (no replica left)", rmux.execute("WAIT", 1, 300))
        say("  took", f"{time.monotonic() - began:.3f} s")
        began = time.monotonic()
        await attempt("WAITAOF 1 1 300 on it", rmux.execute("WAITAOF", 1, 1, 300))
        say("  took", f"{time.monotonic() - began:.3f} s")
        began = time.monotonic()
        cluster.restart(primary)
        say("old primary restarted", f"{time.monotonic() - began:.2f} s")
        say("wait_ok", f"{cluster.wait_ok(FAILOVER_TIMEOUT_S):.2f} s")
        say("its role now", primary.role())
        await asyncio.sleep(0.3)
        await attempt("FT._LIST on it", self.mux(primary).execute("FT._LIST"))
        say(f"{ns}'s memories in its index", len(await self.ns_docs(primary, ns)))
        began = time.monotonic()
        await attempt("WAIT 1 500 on the promoted one again", rmux.execute("WAIT", 1, 500))
        say("  took", f"{time.monotonic() - began:.3f} s")

    async def global_keys(self) -> None:
        section("f. keys outside every namespace")
        cluster = self.cluster
        for key in (
            keys.namespaces(),
            keys.storage_schema(),
            keys.model(),
            keys.model_next(),
            keys.migration_lease(),
        ):
            slot = cluster.slot_of(key)
            say(key, f"slot {slot} on {cluster.owner(slot).address}")
        owner = cluster.owner(cluster.slot_of(keys.model()))
        script = scripts.load(self.mux(owner), ModelRecord)
        call = ModelRecord(
            record=keys.model(), next=keys.model_next(), name="m", dim=DIM, fingerprint="f",
            now_ms=int(time.time() * 1000), next_name="", next_dim=0, next_fingerprint="",
            next_field="",
        )  # fmt: skip
        await attempt(
            f"model_record.lua (KEYS {keys.model()}, {keys.model_next()}) on {owner.address}",
            script(call),
        )


# g: how many indexes, and memories in each.
PER_NAMESPACE_INDEXES = 100
PER_NAMESPACE_MEMORIES = 5


async def index_per_namespace() -> None:
    """g. `PER_NAMESPACE_INDEXES` indexes of memrpc's schema, each over one
    namespace's prefix (`memrpc:idx:{ns}`), on a plain server: what each
    costs empty, and with `PER_NAMESPACE_MEMORIES` memories."""
    section("g. an index per namespace: its cost")
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=0)
        await server.astart()
        mux = RedisMux(server.url)

        try:
            base = await used_memory(mux)
            for i in range(PER_NAMESPACE_INDEXES):
                create = create_command(DIM, VectorType.FLOAT16)
                create[1] = f"memrpc:idx:{{ns{i}}}"
                create[create.index("PREFIX") + 2] = keys.memory(f"ns{i}", "")
                await mux.execute(*create)
            empty = await used_memory(mux)
            for i in range(PER_NAMESPACE_INDEXES):
                for j in range(PER_NAMESPACE_MEMORIES):
                    blob = VectorType.FLOAT16.blob(vector(rng))
                    await mux.execute("HSET", keys.memory(f"ns{i}", str(j)), "n", "x", "v", blob)
            full = await used_memory(mux)
        finally:
            await mux.aclose()
            await server.astop()
    say("bytes per empty index", round((empty - base) / PER_NAMESPACE_INDEXES))
    say(
        f"bytes per namespace with {PER_NAMESPACE_MEMORIES} memories",
        round((full - base) / PER_NAMESPACE_INDEXES),
    )


async def main() -> None:
    began = time.monotonic()
    async with LocalCluster(primaries=3, replicas=1) as cluster:
        say("cluster up", f"{time.monotonic() - began:.2f} s")
        spike = Spike(cluster)
        try:
            await spike.run()
        finally:
            await spike.close()
    say("\ncluster stopped; total", f"{time.monotonic() - began:.1f} s")
    await index_per_namespace()


if __name__ == "__main__":
    asyncio.run(main())
