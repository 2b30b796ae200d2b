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
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.exceptions

from memrpc.namespace_defaults import NamespaceDefaults
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


# Where each setting (`StoredSettings`) applies in `NamespaceDefaults`: the
# dotted path of its field there. A setting named `..._ms` is held in ms in
# the store and in seconds there.
APPLIES: dict[str, str] = {
    "session_ttl_ms": "session_ttl_s",
    "window_turns": "window_turns",
    "window_bytes": "window_bytes",
    "dedup_distance": "dedup_distance",
    "recall_distance": "recall_distance",
    "episodic_ttl_ms": "episodic_ttl_s",
    "recall_mode": "recall_mode",
    "keyword_weight": "keyword_weight",
    "neighbor_weight": "neighbor_weight",
    "time_weight": "time_weight",
    "summaries_enabled": "summaries.enabled",
    "summary_max_chars": "summaries.max_chars",
    "summary_min_fold_turns": "summaries.min_fold_turns",
    "formation_enabled": "formation.enabled",
    "formation_turns_per_memory": "formation.turns_per_memory",
    "formation_max_chars": "formation.max_chars",
    "formation_extract_facts": "formation.extract_facts",
    "consolidation_enabled": "consolidation.enabled",
    "consolidation_distance": "consolidation.max_distance",
    "consolidation_interval_ms": "consolidation.interval_s",
    "forgetting_enabled": "forgetting.enabled",
    "forgetting_max_per_user": "forgetting.max_memories_per_user",
    "forgetting_unrecalled_ms": "forgetting.unrecalled_s",
    "forgetting_interval_ms": "forgetting.interval_s",
    "llm_enabled": "language_model.enabled",
    "llm_calls_per_minute": "language_model.max_calls_per_minute",
}


def _in_ms(setting: str) -> bool:
    return setting.endswith("_ms")


def _replaced(parent: Any, path: list[str], value: object) -> Any:
    """`parent` (a frozen dataclass) with the field at `path` set to `value`."""
    name, *rest = path
    inner = _replaced(getattr(parent, name), rest, value) if rest else value
    return dataclasses.replace(parent, **{name: inner})


def _at(parent: object, path: str) -> Any:
    """The field of `parent` at the dotted `path`."""
    for name in path.split("."):
        parent = getattr(parent, name)
    return parent


def resolve(stored: StoredSettings, server: NamespaceDefaults) -> NamespaceDefaults:
    """The defaults that apply to a namespace with the `stored` settings on
    a server whose own defaults are `server`: each setting that is set, in
    place of the server's (`APPLIES`)."""
    defaults = server
    for setting, path in APPLIES.items():
        value = getattr(stored, setting)
        if value is None:
            continue
        defaults = _replaced(defaults, path.split("."), value / 1000 if _in_ms(setting) else value)
    # A namespace can only lower the server's window budget.
    return dataclasses.replace(
        defaults, window_bytes=min(defaults.window_bytes, server.window_bytes)
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
    values = {
        setting: round(_at(defaults, path) * 1000) if _in_ms(setting) else _at(defaults, path)
        for setting, path in APPLIES.items()
    }
    return StoredSettings(**values, version=stored.version, update_ms=stored.update_ms)
