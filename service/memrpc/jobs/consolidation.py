"""The consolidation job (`consolidation`, a `PeriodicJob`): merges a
namespace's near-duplicate memories, and with a language model marks the
older facts a newer one contradicts as superseded
(`NamespaceSettings.consolidation`, `.language_model`).

A run examines the next `CONSOLIDATION_BATCH` memories of the pass over
the namespace (`store/consolidation.py`, newest first). For each, the
`CONSOLIDATION_NEIGHBOURS` nearest memories of its scope (same user and
kind):

- within `ConsolidationPolicy.max_distance`: the two merge (one script).
  The older survives, unless only the newer is pinned; two pinned memories
  never merge. A memory changed since it was read is left for the next
  pass.
- with a language model the namespace uses, for a semantic memory not
  asked about in an earlier pass: the older ones within
  `CONSOLIDATION_RELATED_DISTANCE` not merged are sent with it to
  `LanguageModel.contradicted`, and each one the model names is marked
  superseded (one script each). A failed call is reported by `JobsModel`
  (the client's metrics, a `memrpc.language_model_failed` event with the
  memory's thread); the pass asks nothing more, and the next pass asks about that memory
  (and those after it) again. A pass without the model (none configured,
  or the namespace's policy off) leaves its memories to be asked about by
  a later pass with it.

A run returns True while the pass has memories left, False once it has
examined them all (the next pass starts after the job's interval).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from memrpc import metrics
from memrpc.limits import CONSOLIDATION_BATCH, CONSOLIDATION_RELATED_DISTANCE
from memrpc.llm.jobs_model import JobsModel
from memrpc.namespace_defaults import ConsolidationPolicy, DefaultsSource
from memrpc.store.consolidation import ConsolidationStore, Examined
from memrpc.store.long_term import Match, Memory
from memrpc.store.memory_index import Kind

log = logging.getLogger("memrpc.jobs")


def merge_order(a: Memory, b: Memory) -> tuple[Memory, Memory] | None:
    """The survivor and the loser of a merge of two memories: the older
    survives unless only the newer is pinned; None when both are pinned."""
    older, newer = sorted((a, b), key=lambda memory: memory.id)
    if older.pinned and newer.pinned:
        return None
    return (newer, older) if newer.pinned else (older, newer)


class ConsolidationJob:
    """Merges near duplicates and supersedes contradicted facts."""

    name = "consolidation"

    def __init__(
        self,
        store: ConsolidationStore,
        defaults: DefaultsSource,
        model: JobsModel | None = None,
    ) -> None:
        self._store = store
        self._defaults = defaults
        self._model = model

    async def interval_s(self, ns: str) -> float | None:
        policy = (await self._defaults.defaults(ns)).consolidation
        return policy.interval_s if policy.enabled else None

    async def run(self, ns: str, now_ms: int) -> bool:
        defaults = await self._defaults.defaults(ns)
        policy = defaults.consolidation
        if not policy.enabled:
            return False
        model = self._model if self._model and self._model.enabled(defaults) else None
        walk = await self._store.walk(ns)
        page = await self._store.page(ns, walk, CONSOLIDATION_BATCH)
        if not walk.top:
            walk = replace(walk, top=page.first)
        if model is None:
            # Nothing asked this pass: the next pass with a model asks.
            walk = replace(walk, partial=True)
        gone: set[str] = set()
        for examined in page.examined:
            memory = examined.memory
            if memory.id in gone:
                continue
            metrics.consolidated("examined")
            asked = model if model is not None and walk.asks_about(memory) else None
            if not await self._examine(ns, examined, policy, asked, gone):
                walk = replace(walk, partial=True)
        if page.more:
            await self._store.save(ns, replace(walk, after=page.last))
        else:
            await self._store.save(ns, walk.finished())
        return page.more

    async def _examine(
        self,
        ns: str,
        examined: Examined,
        policy: ConsolidationPolicy,
        model: JobsModel | None,
        gone: set[str],
    ) -> bool:
        """Merges `examined` with its near duplicates (adding the losers to
        `gone`), then asks `model` (when given) about the older related
        memories; False when the model's call failed."""
        memory = examined.memory
        asks = model is not None and memory.kind is Kind.SEMANTIC
        wide = max(policy.max_distance, CONSOLIDATION_RELATED_DISTANCE if asks else 0.0)
        related: list[Memory] = []
        for match in await self._store.neighbours(ns, examined, wide):
            if match.distance <= policy.max_distance and await self._merge(ns, memory, match, gone):
                if memory.id in gone:
                    return True
                continue
            if match.memory.id < memory.id:
                related.append(match.memory)
        if model is None or not asks or not related:
            return True
        texts = [older.text for older in related]
        named = await model.call(
            ns, self.name, memory.thread_id, model.model.contradicted(ns, memory.text, texts)
        )
        if named is None:
            return False
        for index in sorted({index for index in named if 0 <= index < len(related)}):
            if await self._store.supersede(ns, related[index], memory):
                metrics.consolidated("superseded")
        return True

    async def _merge(self, ns: str, memory: Memory, match: Match, gone: set[str]) -> bool:
        """Merges `memory` and its near duplicate `match` (the loser added to
        `gone`); False when they may not merge or changed since read."""
        order = merge_order(memory, match.memory)
        if order is None:
            return False
        survivor, loser = order
        if await self._store.merge(ns, survivor, loser, match.distance) is None:
            log.debug("consolidation of %s: %s or %s changed, left", ns, survivor.id, loser.id)
            return False
        gone.add(loser.id)
        metrics.consolidated("merged")
        return True
