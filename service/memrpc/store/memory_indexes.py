"""Which search index holds a namespace's memories, and how a search of
them is sent.

On one Redis, every namespace's memories are in one index,
`memory_index.INDEX`. A Redis Cluster has no index spanning its primaries:
each primary indexes the memories of the slots it serves, in an index of its
own named `INDEX{<tag>}`, the tag the first of `0`, `1`, ... whose slot that
primary serves (`RedisClient.key_on`): the cluster routes every `FT.*`
command by the index name, which must hash to a slot of the node holding
the index (docs/cluster-spike.md, a). `MemoryIndexes` names the index of a
namespace (made on first use where it is missing: a primary that joined)
and sends the namespace's searches:

- on one Redis, as they are;
- on a Redis Cluster, inside `lua/index_query.lua`, which declares two keys
  of the namespace's slot that never exist (`keys.probe` and the memory
  prefix). A command naming several keys of a slot being moved, not all of
  them there, is never run (the source answers `ASK` or `TRYAGAIN`, the
  target `TRYAGAIN`), so a search never answers from the half of a moving
  namespace that one primary holds: it fails with `TryAgainError`,
  retryable. The scripts that search for duplicates declare `keys.probe`
  (beside a key of their own) for the same reason.
- A slot that has moved for good: the script's keys get `MOVED`, the client
  follows it to the new primary, where the index name (the old primary's)
  is a key another node serves: `NonLocalKeyError`, retryable too. The
  client's slot map has learnt the move, so a retry names the new
  primary's index.

The names are computed from the slot map, not listed. If the slot of an
index's name moves to another primary, the first primary gets a new index
under another name, and searches of its namespaces fail with
`TryAgainError` until the new index has read the memories already there;
the old index stays behind (docs/scaling.md says to leave those slots in
place).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from memrpc.store import keys, scripts
from memrpc.store.memory_index import DISTANCE, INDEX, indexing, info_command, is_node_index
from memrpc.store.redis_errors import IndexExistsError, UnknownIndexError, classify
from memrpc.store.redis_mux import Arg, RedisClient
from memrpc.store.script_args import IndexQuery

# The `FT.CREATE` command of an index of a given name.
CreateCommand = Callable[[str], Sequence[Arg]]


class MemoryIndexes:
    """The indexes of the memories of `redis`, made (on a cluster, on a
    primary without its index) by `create` unless None."""

    def __init__(self, redis: RedisClient, create: CreateCommand | None = None) -> None:
        self._redis = redis
        self._create = create
        self._query = scripts.load(redis, IndexQuery)
        # The names found or made, each with its index ready to search.
        self._ready: set[str] = set()

    async def of(self, ns: str) -> str:
        """The name of the index holding the memories of `ns`."""
        name = await self._redis.key_on(keys.memory(ns, ""), INDEX)
        await self._ensure(name)
        return name

    async def made(self) -> bool:
        """Whether every primary's index exists (one Redis's: `INDEX`)."""
        for name in await self._redis.keys_per_primary(INDEX):
            try:
                await self._redis.execute(*info_command(name))
            except UnknownIndexError:
                return False
        return True

    async def run(self, ns: str, args: Sequence[Arg]) -> Any:
        """The reply of the search `args` (`FT.SEARCH` or `FT.AGGREGATE` of
        `INDEX`) of the memories of `ns`, from the index holding them; on a
        cluster, never from part of them, and with the fields its `RETURN`
        names read by the script (see the module docstring)."""
        name = await self.of(ns)
        if not is_node_index(name):
            return await self._redis.execute(*args)
        command, loaded = cluster_search([args[0], name, *args[2:]])
        return await self._query(
            IndexQuery(
                probe=keys.probe(ns),
                prefix=keys.memory(ns, ""),
                scored=int("WITHSCORES" in command),
                loaded=len(loaded),
                words=[loaded, command],
            )
        )

    async def _ensure(self, name: str) -> None:
        """Makes sure the index `name` is ready (`_make`) unless it is one
        Redis's, which a server makes at start (`LongTermStore.ensure_index`)."""
        if is_node_index(name) and name not in self._ready:
            await self._make(name)

    async def _make(self, name: str) -> None:
        """Notes the index `name` as ready once it exists and has read the
        memories its node held when it was made; makes it if missing and
        `create` is given. Until then, `TryAgainError`."""
        if self._create is not None:
            with contextlib.suppress(IndexExistsError):
                await self._redis.execute(*self._create(name))
        try:
            info = await self._redis.execute(*info_command(name))
        except UnknownIndexError as exc:
            raise classify(f"TRYAGAIN the search index {name} does not exist yet") from exc
        if indexing(info):
            raise classify(f"TRYAGAIN the search index {name} is still reading the memories")
        self._ready.add(name)


def cluster_search(args: Sequence[Arg]) -> tuple[list[Arg], list[Arg]]:
    """The search `args` as a Redis Cluster node can run it, and the Hash
    fields `lua/index_query.lua` reads for it:

    - Search returns nothing of a hit whose fields it must read from its
      Hash there, so its `RETURN` keeps only the values Search computes
      (`DISTANCE`), `NOCONTENT` for none.
    - A sorted search (`SORTBY`) runs in `DIALECT 2`, not 4: the optimizer
      of `DIALECT 4` (a page walked down a numeric range) failed an
      assertion and crashed the node on a cluster's index, whose sort keys
      are `SORTABLE` (RediSearch 2.10.5, `optimizer_reader.c:68`,
      `successRatio < 1`); the page is then sorted from every match.
    """
    command = list(args)
    if "SORTBY" in command and command[-2:] == ["DIALECT", 4]:
        command[-1] = 2
    at = next((at for at, arg in enumerate(command) if arg == "RETURN"), None)
    if at is None:
        return command, []
    count = int(command[at + 1])
    names = list(command[at + 2 : at + 2 + count])
    kept = [name for name in names if name == DISTANCE]
    loaded = [name for name in names if name != DISTANCE]
    returned: list[Arg] = ["RETURN", len(kept), *kept] if kept else ["NOCONTENT"]
    return [*command[:at], *returned, *command[at + 2 + count :]], loaded
