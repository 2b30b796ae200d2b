"""A Redis Cluster's slot map: which primary serves each slot.

Read from any node with `CLUSTER SHARDS` (Redis 7+, valkey): one entry per
shard, its slot ranges and its nodes, each with its role, health and
addresses. Only the primaries matter here (memrpc reads and writes on
primaries): a shard's slots map to its node whose role is `master`, the
online one if there are two (an old primary not yet demoted). A node is
named by its `endpoint` (what `MOVED` and `ASK` name, by default the IP)
or its `ip` when the endpoint is unknown (`?` or empty), and its
`tls-port` when the client uses TLS.

A primary that is down but not yet replaced stays in the map: its slots
have no other owner until its replica is promoted, and commands for them
fail with `ConnectionError` meanwhile.
"""

from __future__ import annotations

from typing import Any

from memrpc.store.hash_slot import SLOTS

NodeAddress = tuple[str, int]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(flat: list[Any]) -> dict[str, Any]:
    """A RESP2 map (a flat list of names and values) as a dict."""
    return {_text(flat[i]): flat[i + 1] for i in range(0, len(flat) - 1, 2)}


class SlotMap:
    """Each slot's primary, from a `CLUSTER SHARDS` reply."""

    def __init__(self, shards: list[Any], *, tls: bool = False) -> None:
        self.owners: list[NodeAddress | None] = [None] * SLOTS
        for shard in shards:
            fields = _fields(shard)
            primary = self._primary(fields.get("nodes") or [], tls=tls)
            ranges = fields.get("slots") or []
            if primary is None:
                continue
            for low, high in zip(ranges[::2], ranges[1::2], strict=True):
                self.owners[int(low) : int(high) + 1] = [primary] * (int(high) - int(low) + 1)
        self.primaries = sorted({owner for owner in self.owners if owner is not None})

    @staticmethod
    def _primary(nodes: list[Any], *, tls: bool) -> NodeAddress | None:
        """The address of the shard's primary, the online one first."""
        found = [_fields(node) for node in nodes]
        primaries = [node for node in found if _text(node.get("role", "")) == "master"]
        primaries.sort(key=lambda node: _text(node.get("health", "")) != "online")
        if not primaries:
            return None
        node = primaries[0]
        endpoint = _text(node.get("endpoint", ""))
        host = endpoint if endpoint not in ("", "?") else _text(node["ip"])
        port = node["tls-port"] if tls and "tls-port" in node else node["port"]
        return host, int(port)

    def owner(self, slot: int) -> NodeAddress | None:
        """The primary serving `slot`, None when no node does."""
        return self.owners[slot]

    def moved(self, slot: int, address: NodeAddress) -> None:
        """Notes that `address` serves `slot` now, as a `MOVED` said."""
        self.owners[slot] = address
        if address not in self.primaries:
            self.primaries = sorted([*self.primaries, address])
