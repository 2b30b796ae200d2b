"""The defaults every call falls back on: each namespace's settings
(`store/namespace_settings.py`) resolved against the server's defaults, and
cached per process.

Precedence, for every default: the request's value, else the namespace's
setting, else the server's default (`namespace_defaults.py`). A namespace
can only lower the window's byte budget: its setting is capped by the
server's budget when resolved, should the server run with a smaller one
than when the setting was made.

The cache, `NamespaceCache` (a `DefaultsSource`):

- a hit costs a dict lookup and a clock read, no Redis round trip; an entry
  is fresh for `FRESH_S` (2 s, the bound the proto states) after its read;
- a miss, or an entry no longer fresh, reads the Hash (one HGETALL); calls
  of one namespace that miss together share that one read;
- an update made by this process replaces its entry at once (`remember`),
  so this process's next call follows it; other processes follow within
  `FRESH_S`. An entry is never replaced by settings of an older version (a
  read that raced the update);
- when the read fails (Redis unreachable, a command timeout), the last
  known value is served for up to `STALE_S` after it was read (and read
  again at most every `FRESH_S` meanwhile), so that a Redis hiccup does not
  fail calls that would otherwise succeed; with no value that recent, the
  failure is the call's (`UNAVAILABLE`, like its own Redis command would
  be). The server's defaults are never served in place of a namespace's
  settings: a namespace that lowered its window or its TTLs keeps them;
- at most `MAX_ENTRIES` namespaces are kept, the least recently read
  dropped first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import redis.exceptions

from memrpc.namespace_defaults import (
    ConsolidationPolicy,
    ForgettingPolicy,
    FormationPolicy,
    LanguageModelPolicy,
    NamespaceDefaults,
    SummaryPolicy,
)
from memrpc.store.namespace_settings import NamespaceSettingsStore, StoredSettings

log = logging.getLogger("memrpc.namespaces")

# Seconds an entry is served without reading the settings again.
FRESH_S = 2.0
# Seconds after its read an entry is still served while the settings cannot be read.
STALE_S = 60.0
# Namespaces whose defaults one process keeps.
MAX_ENTRIES = 10_000
# What a failed read of the settings raises (a command timeout is a TimeoutError).
READ_FAILURES = (redis.exceptions.RedisError, TimeoutError, OSError)


T = TypeVar("T")


def _pick(value: T | None, default: T) -> T:
    return default if value is None else value


def _ms_to_s(value: int | None, default: float) -> float:
    return default if value is None else value / 1000


def _s_to_ms(value: float) -> int:
    return round(value * 1000)


def resolve(stored: StoredSettings, server: NamespaceDefaults) -> NamespaceDefaults:
    """The defaults that apply to a namespace with the `stored` settings on
    a server whose own defaults are `server`."""
    summaries, formation = server.summaries, server.formation
    consolidation, forgetting, llm = server.consolidation, server.forgetting, server.language_model
    return NamespaceDefaults(
        session_ttl_s=_ms_to_s(stored.session_ttl_ms, server.session_ttl_s),
        window_turns=_pick(stored.window_turns, server.window_turns),
        window_bytes=min(_pick(stored.window_bytes, server.window_bytes), server.window_bytes),
        dedup_distance=_pick(stored.dedup_distance, server.dedup_distance),
        recall_distance=_pick(stored.recall_distance, server.recall_distance),
        recall_mode=_pick(stored.recall_mode, server.recall_mode),
        keyword_weight=_pick(stored.keyword_weight, server.keyword_weight),
        episodic_ttl_s=_ms_to_s(stored.episodic_ttl_ms, server.episodic_ttl_s),
        summaries=SummaryPolicy(
            enabled=_pick(stored.summaries_enabled, summaries.enabled),
            max_chars=_pick(stored.summary_max_chars, summaries.max_chars),
            min_fold_turns=_pick(stored.summary_min_fold_turns, summaries.min_fold_turns),
        ),
        formation=FormationPolicy(
            enabled=_pick(stored.formation_enabled, formation.enabled),
            turns_per_memory=_pick(stored.formation_turns_per_memory, formation.turns_per_memory),
            max_chars=_pick(stored.formation_max_chars, formation.max_chars),
            extract_facts=_pick(stored.formation_extract_facts, formation.extract_facts),
        ),
        consolidation=ConsolidationPolicy(
            enabled=_pick(stored.consolidation_enabled, consolidation.enabled),
            max_distance=_pick(stored.consolidation_distance, consolidation.max_distance),
            interval_s=_ms_to_s(stored.consolidation_interval_ms, consolidation.interval_s),
        ),
        forgetting=ForgettingPolicy(
            enabled=_pick(stored.forgetting_enabled, forgetting.enabled),
            max_memories_per_user=_pick(
                stored.forgetting_max_per_user, forgetting.max_memories_per_user
            ),
            unrecalled_s=_ms_to_s(stored.forgetting_unrecalled_ms, forgetting.unrecalled_s),
            interval_s=_ms_to_s(stored.forgetting_interval_ms, forgetting.interval_s),
        ),
        language_model=LanguageModelPolicy(
            enabled=_pick(stored.llm_enabled, llm.enabled),
            max_calls_per_minute=_pick(stored.llm_calls_per_minute, llm.max_calls_per_minute),
        ),
    )


@dataclass
class _Entry:
    version: int
    defaults: NamespaceDefaults
    # Monotonic seconds: when the settings were read, and until when the
    # entry is served without reading them again.
    read_at: float
    fresh_until: float


class NamespaceCache:
    """Each namespace's resolved defaults, cached per process (see the
    module docstring)."""

    def __init__(
        self,
        store: NamespaceSettingsStore,
        server: NamespaceDefaults,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.server = server
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._reads: dict[str, asyncio.Future[NamespaceDefaults]] = {}

    async def defaults(self, ns: str) -> NamespaceDefaults:
        """The defaults that apply to `ns` now."""
        entry = self._entries.get(ns)
        if entry is not None and self._clock() < entry.fresh_until:
            return entry.defaults
        read = self._reads.get(ns)
        if read is None:
            read = asyncio.ensure_future(self._read(ns))
            self._reads[ns] = read
            read.add_done_callback(lambda _: self._reads.pop(ns, None))
        # A caller cancelled (its deadline) leaves the read to the others.
        return await asyncio.shield(read)

    def remember(self, ns: str, stored: StoredSettings) -> NamespaceDefaults:
        """Keeps `stored`, just read or written by this process, as the
        settings of `ns` (unless newer ones are kept already); returns the
        defaults they resolve to."""
        now = self._clock()
        entry = self._entries.get(ns)
        if entry is not None and entry.version > stored.version:
            entry.read_at, entry.fresh_until = now, now + FRESH_S
            return entry.defaults
        defaults = resolve(stored, self.server)
        self._entries[ns] = _Entry(stored.version, defaults, now, now + FRESH_S)
        self._entries.move_to_end(ns)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return defaults

    async def _read(self, ns: str) -> NamespaceDefaults:
        try:
            stored = await self._store.get(ns)
        except READ_FAILURES as err:
            entry = self._entries.get(ns)
            now = self._clock()
            if entry is None or now - entry.read_at > STALE_S:
                raise
            log.warning(
                "namespace %r: settings unreadable (%s); serving those read %.1f s ago",
                ns,
                err,
                now - entry.read_at,
            )
            entry.fresh_until = now + FRESH_S
            return entry.defaults
        return self.remember(ns, stored)


def as_settings(defaults: NamespaceDefaults, stored: StoredSettings) -> StoredSettings:
    """`defaults` as settings with every field set (what `resolve` gives
    back), with the version and update time of `stored`."""
    summaries, formation = defaults.summaries, defaults.formation
    consolidation, forgetting = defaults.consolidation, defaults.forgetting
    return StoredSettings(
        session_ttl_ms=_s_to_ms(defaults.session_ttl_s),
        window_turns=defaults.window_turns,
        window_bytes=defaults.window_bytes,
        dedup_distance=defaults.dedup_distance,
        recall_distance=defaults.recall_distance,
        episodic_ttl_ms=_s_to_ms(defaults.episodic_ttl_s),
        summaries_enabled=summaries.enabled,
        summary_max_chars=summaries.max_chars,
        summary_min_fold_turns=summaries.min_fold_turns,
        formation_enabled=formation.enabled,
        formation_turns_per_memory=formation.turns_per_memory,
        formation_max_chars=formation.max_chars,
        formation_extract_facts=formation.extract_facts,
        recall_mode=defaults.recall_mode,
        keyword_weight=defaults.keyword_weight,
        consolidation_enabled=consolidation.enabled,
        consolidation_distance=consolidation.max_distance,
        consolidation_interval_ms=_s_to_ms(consolidation.interval_s),
        forgetting_enabled=forgetting.enabled,
        forgetting_max_per_user=forgetting.max_memories_per_user,
        forgetting_unrecalled_ms=_s_to_ms(forgetting.unrecalled_s),
        forgetting_interval_ms=_s_to_ms(forgetting.interval_s),
        llm_enabled=defaults.language_model.enabled,
        llm_calls_per_minute=defaults.language_model.max_calls_per_minute,
        version=stored.version,
        update_ms=stored.update_ms,
    )
