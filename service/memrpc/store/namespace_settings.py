"""Namespace settings: one Redis Hash per namespace, `keys.namespace_settings`.

| field                    | holds                                         |
|--------------------------|-----------------------------------------------|
| `session_ttl_ms`         | a session's time to live (ms)                 |
| `window_turns`           | turns a window keeps                          |
| `window_bytes`           | bytes of turns a window keeps                 |
| `dedup_distance`         | a create's or update's dedup distance         |
| `recall_distance`        | a search's most distance                      |
| `episodic_ttl_ms`        | an episodic memory's time to live (ms)        |
| `summaries_enabled`      | `1` or `0`: whether threads are summarized    |
| `summary_max_chars`      | the most characters of a summary              |
| `summary_min_fold_turns` | turns evicted before a fold runs              |
| `formation_enabled`      | `1` or `0`: whether memories are formed       |
| `formation_turns_per_memory` | turns one formed memory records           |
| `formation_max_chars`    | the most characters of a formed memory        |
| `formation_extract_facts` | `1` or `0`: whether facts are extracted      |
| `recall_mode`            | a search's mode: `vector`, `keyword`, `hybrid` |
| `keyword_weight`         | a hybrid search's keyword weight              |
| `neighbor_weight`        | a hybrid search's neighbour weight            |
| `time_weight`            | a hybrid search's time weight                 |
| `consolidation_enabled`  | `1` or `0`: whether memories are consolidated |
| `consolidation_distance` | the widest distance of a merge                |
| `consolidation_interval_ms` | how often consolidation runs (ms)          |
| `forgetting_enabled`     | `1` or `0`: whether memories are forgotten    |
| `forgetting_max_per_user` | the most memories a user keeps               |
| `forgetting_unrecalled_ms` | how long unrecalled memories are kept (ms)  |
| `forgetting_interval_ms` | how often forgetting runs (ms)                |
| `llm_enabled`            | `1` or `0`: whether jobs use the language model |
| `llm_calls_per_minute`   | the jobs' calls to the model per minute       |
| `version`, `update_ms`   | integers; absent until the first update       |

A field that is absent is not set: the server's default applies. The Hash
has no TTL. An update is one Lua script (`lua/namespace_settings_update.lua`):
version check, fields set and cleared, version + 1 and update time together.
The store holds values as given; their ranges are the API's to check.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from memrpc.namespace_defaults import RecallMode
from memrpc.store import keys, scripts
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import NamespaceSettingsUpdate
from memrpc.store.versions import VersionMismatch

# A setting's value: None when not set.
Value = int | float | bool | RecallMode | None


@dataclass(frozen=True)
class StoredSettings:
    """A namespace's settings as stored: None for a setting not set."""

    session_ttl_ms: int | None = None
    window_turns: int | None = None
    window_bytes: int | None = None
    dedup_distance: float | None = None
    recall_distance: float | None = None
    episodic_ttl_ms: int | None = None
    summaries_enabled: bool | None = None
    summary_max_chars: int | None = None
    summary_min_fold_turns: int | None = None
    formation_enabled: bool | None = None
    formation_turns_per_memory: int | None = None
    formation_max_chars: int | None = None
    formation_extract_facts: bool | None = None
    recall_mode: RecallMode | None = None
    keyword_weight: float | None = None
    neighbor_weight: float | None = None
    time_weight: float | None = None
    consolidation_enabled: bool | None = None
    consolidation_distance: float | None = None
    consolidation_interval_ms: int | None = None
    forgetting_enabled: bool | None = None
    forgetting_max_per_user: int | None = None
    forgetting_unrecalled_ms: int | None = None
    forgetting_interval_ms: int | None = None
    llm_enabled: bool | None = None
    llm_calls_per_minute: int | None = None
    # 0: never changed.
    version: int = 0
    # 0: never changed.
    update_ms: int = 0


# How a value of each type reads back from the Hash.
_PARSE_TYPE: dict[type, Callable[[bytes], Value]] = {
    int: int,
    float: float,
    bool: lambda value: value == b"1",
    RecallMode: lambda value: RecallMode(value.decode()),
}
# How each field reads back from the Hash: by its type.
_PARSE: dict[str, Callable[[bytes], Value]] = {
    name: _PARSE_TYPE[next(t for t in typing.get_args(hint) or (hint,) if t is not type(None))]
    for name, hint in typing.get_type_hints(StoredSettings).items()
}
SETTINGS = tuple(name for name in _PARSE if name not in ("version", "update_ms"))


def _encode(value: Value) -> str:
    """A value as the Hash holds it ('' clears the field)."""
    if value is None:
        return ""
    if isinstance(value, RecallMode):
        return value.value
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value)


def _parse(flat: Sequence[bytes]) -> StoredSettings:
    values = {
        name.decode(): _PARSE[name.decode()](value)
        for name, value in zip(flat[::2], flat[1::2], strict=True)
        if name.decode() in _PARSE
    }
    return StoredSettings(**values)  # type: ignore[arg-type]


class NamespaceSettingsStore:
    """Reads and writes namespaces' settings."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._update = scripts.load(redis, NamespaceSettingsUpdate)

    async def get(self, ns: str) -> StoredSettings:
        """The namespace's settings: one HGETALL (all unset, version 0, for
        a namespace never changed)."""
        return _parse(await self._redis.execute("HGETALL", keys.namespace_settings(ns)))

    async def update(
        self, ns: str, changes: Mapping[str, Value], *, now_ms: int, expected: int | None
    ) -> StoredSettings:
        """Sets the `changes` (a setting's name and value, None to clear it),
        at version `expected` unless None; returns the settings after, or
        raises `VersionMismatch` and changes nothing."""
        unknown = set(changes) - set(SETTINGS)
        if unknown:
            raise ValueError(f"not settings: {sorted(unknown)}")
        reply = await self._update(
            NamespaceSettingsUpdate(
                settings=keys.namespace_settings(ns),
                now_ms=now_ms,
                expected_version="" if expected is None else str(expected),
                fields=[(name, _encode(value)) for name, value in changes.items()],
            )
        )
        if reply[0] == 0:
            raise VersionMismatch(int(reply[1]))
        return _parse(reply[1])
