"""The Namespaces service: each namespace's settings, on
`store.namespace_settings`, resolved by `namespace_cache`.

A setting is a leaf of `NamespaceSettings` (`sessions.ttl`, ...), each held
by one field of the store (`_leaves`). Update masks follow
`api/update_masks.py`, with the leaf paths, and the messages that hold them
(`sessions`, `memories`, `summaries`, `formation`, `consolidation`,
`forgetting`, `language_model`) standing for all their leaves; `*` is every
leaf. A leaf named but unset (an integer or a duration 0, an enum
unspecified, an optional field absent) is cleared: it follows the server
again. Every value is checked against its range in `limits.py` before
anything is written.

Get reads the settings from Redis (not the cache: they are what is stored
now); both Get and Update hand what they read or wrote to the cache, so
that this process's next calls follow an update at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from memrpc.api import update_masks
from memrpc.api.convert import (
    RECALL_MODE_NUMBERS,
    RECALL_MODES,
    duration,
    now_ms,
    set_timestamp,
)
from memrpc.limits import (
    CONSOLIDATION_DISTANCE,
    CONSOLIDATION_INTERVAL_S,
    DEDUP_DISTANCE,
    FORGETTING_INTERVAL_S,
    FORGETTING_MAX_PER_USER,
    FORGETTING_UNRECALLED_S,
    FORMATION_TURNS_PER_MEMORY,
    KEYWORD_WEIGHT,
    LLM_CALLS_PER_MINUTE,
    MEMORY_TTL_S,
    MIN_NAMESPACE_WINDOW_BYTES,
    NEIGHBOR_WEIGHT,
    SEARCH_DISTANCE,
    SESSION_TTL_S,
    SUMMARY_MAX_CHARS,
    SUMMARY_MIN_FOLD_TURNS,
    TIME_WEIGHT,
    WINDOW_TURNS,
    Limits,
    Range,
)
from memrpc.namespace_cache import NamespaceCache, as_settings
from memrpc.namespace_defaults import RecallMode
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, Context, translate_errors
from memrpc.store.namespace_settings import NamespaceSettingsStore, StoredSettings, Value
from memrpc.store.versions import VersionMismatch
from memrpc.v1 import namespace_settings_pb2 as pb
from memrpc.v1 import namespace_settings_pb2_grpc


@dataclass(frozen=True)
class _Leaf:
    """A setting: its path in `NamespaceSettings`, its field in the store,
    how it is read from a request (None: unset), and how it is written to a
    message."""

    path: str
    setting: str
    read: Callable[[Message, str, str], Value]
    write: Callable[[Message, str, Value], None]

    def parent(self, settings: pb.NamespaceSettings) -> Message:
        message: Message = getattr(settings, self.path.split(".")[0])
        return message

    @property
    def name(self) -> str:
        return self.path.split(".")[1]


def _duration(limit: Range) -> Callable[[Message, str, str], Value]:
    """Reads a Duration in ms: unset or zero is None."""

    def read(parent: Message, name: str, field: str) -> Value:
        value = getattr(parent, name)
        if value.seconds == 0 and value.nanos == 0:
            return None
        return round(validate.seconds(value, field, limit) * 1000)

    return read


def _count(limit: Range) -> Callable[[Message, str, str], Value]:
    """Reads an integer: 0 is None."""

    def read(parent: Message, name: str, field: str) -> Value:
        value: int = getattr(parent, name)
        return validate.count(value, field, limit) if value else None

    return read


def _real(limit: Range) -> Callable[[Message, str, str], Value]:
    """Reads an optional float (a distance, a weight): absent is None."""

    def read(parent: Message, name: str, field: str) -> Value:
        if not parent.HasField(name):
            return None
        return validate.distance(getattr(parent, name), field, limit)

    return read


def _flag(parent: Message, name: str, field: str) -> Value:
    """Reads an optional bool: absent is None."""
    return bool(getattr(parent, name)) if parent.HasField(name) else None


def _recall_mode(parent: Message, name: str, field: str) -> Value:
    """Reads a `RecallMode` (its number known, `validate.known_enums`):
    unspecified is None."""
    number: int = getattr(parent, name)
    return RECALL_MODES.get(number)


def _set_duration(parent: Message, name: str, value: Value) -> None:
    """Writes a Duration from ms; 0 (reads as unset) leaves it unset."""
    if value:
        getattr(parent, name).CopyFrom(duration(int(value)))


def _set_recall_mode(parent: Message, name: str, value: Value) -> None:
    """Writes a `RecallMode`."""
    assert isinstance(value, RecallMode)
    setattr(parent, name, RECALL_MODE_NUMBERS[value])


def _set(parent: Message, name: str, value: Value) -> None:
    """Writes a scalar."""
    setattr(parent, name, value)


def _leaves(window_bytes: Range, formation_chars: Range) -> tuple[_Leaf, ...]:
    """Every setting, on a server whose window budget is `window_bytes.high`
    and whose formed memories hold at most `formation_chars.high` characters."""
    return (
        _Leaf("sessions.ttl", "session_ttl_ms", _duration(SESSION_TTL_S), _set_duration),
        _Leaf("sessions.max_window_turns", "window_turns", _count(WINDOW_TURNS), _set),
        _Leaf("sessions.max_window_bytes", "window_bytes", _count(window_bytes), _set),
        _Leaf("memories.dedup_max_distance", "dedup_distance", _real(DEDUP_DISTANCE), _set),
        _Leaf("memories.recall_max_distance", "recall_distance", _real(SEARCH_DISTANCE), _set),
        _Leaf("memories.episodic_ttl", "episodic_ttl_ms", _duration(MEMORY_TTL_S), _set_duration),
        _Leaf("memories.recall_mode", "recall_mode", _recall_mode, _set_recall_mode),
        _Leaf("memories.keyword_weight", "keyword_weight", _real(KEYWORD_WEIGHT), _set),
        _Leaf("memories.neighbor_weight", "neighbor_weight", _real(NEIGHBOR_WEIGHT), _set),
        _Leaf("memories.time_weight", "time_weight", _real(TIME_WEIGHT), _set),
        _Leaf("summaries.enabled", "summaries_enabled", _flag, _set),
        _Leaf("summaries.max_chars", "summary_max_chars", _count(SUMMARY_MAX_CHARS), _set),
        _Leaf(
            "summaries.min_fold_turns",
            "summary_min_fold_turns",
            _count(SUMMARY_MIN_FOLD_TURNS),
            _set,
        ),
        _Leaf("formation.enabled", "formation_enabled", _flag, _set),
        _Leaf(
            "formation.turns_per_memory",
            "formation_turns_per_memory",
            _count(FORMATION_TURNS_PER_MEMORY),
            _set,
        ),
        _Leaf("formation.max_chars", "formation_max_chars", _count(formation_chars), _set),
        _Leaf("formation.extract_facts", "formation_extract_facts", _flag, _set),
        _Leaf("consolidation.enabled", "consolidation_enabled", _flag, _set),
        _Leaf(
            "consolidation.max_distance",
            "consolidation_distance",
            _real(CONSOLIDATION_DISTANCE),
            _set,
        ),
        _Leaf(
            "consolidation.interval",
            "consolidation_interval_ms",
            _duration(CONSOLIDATION_INTERVAL_S),
            _set_duration,
        ),
        _Leaf("forgetting.enabled", "forgetting_enabled", _flag, _set),
        _Leaf(
            "forgetting.max_memories_per_user",
            "forgetting_max_per_user",
            _count(FORGETTING_MAX_PER_USER),
            _set,
        ),
        _Leaf(
            "forgetting.forget_unrecalled_after",
            "forgetting_unrecalled_ms",
            _duration(FORGETTING_UNRECALLED_S),
            _set_duration,
        ),
        _Leaf(
            "forgetting.interval",
            "forgetting_interval_ms",
            _duration(FORGETTING_INTERVAL_S),
            _set_duration,
        ),
        _Leaf("language_model.enabled", "llm_enabled", _flag, _set),
        _Leaf(
            "language_model.max_calls_per_minute",
            "llm_calls_per_minute",
            _count(LLM_CALLS_PER_MINUTE),
            _set,
        ),
    )


def _message(ns: str, stored: StoredSettings, leaves: tuple[_Leaf, ...]) -> pb.NamespaceSettings:
    """The message of `stored`: its set fields, version and update time."""
    message = pb.NamespaceSettings(namespace=ns, version=stored.version)
    for leaf in leaves:
        value = getattr(stored, leaf.setting)
        if value is not None:
            leaf.write(leaf.parent(message), leaf.name, value)
    if stored.update_ms:
        set_timestamp(message.update_time, stored.update_ms)
    return message


@translate_errors
class NamespacesServicer(namespace_settings_pb2_grpc.NamespacesServicer):
    """Reads and changes namespaces' settings; hands them to `cache`."""

    def __init__(
        self, store: NamespaceSettingsStore, cache: NamespaceCache, limits: Limits
    ) -> None:
        self._store = store
        self._cache = cache
        budget = limits.max_window_bytes
        self._leaves = _leaves(
            Range(default=budget, low=MIN_NAMESPACE_WINDOW_BYTES, high=budget),
            limits.formation_max_chars,
        )
        self._paths = tuple(leaf.path for leaf in self._leaves)
        # The messages of `NamespaceSettings` whose leaves are settings.
        self._groups = tuple(dict.fromkeys(path.split(".")[0] for path in self._paths))

    def message(self, ns: str, stored: StoredSettings) -> pb.NamespaceSettings:
        """The message of the settings `stored` (an export's record)."""
        return _message(ns, stored, self._leaves)

    def every_setting(self, settings: pb.NamespaceSettings, field: str) -> dict[str, Value]:
        """The checked value of every setting of `settings` (None: unset),
        `field` naming the message in errors (an import's record)."""
        return {
            leaf.setting: leaf.read(leaf.parent(settings), leaf.name, f"{field}.{leaf.path}")
            for leaf in self._leaves
        }

    def _both(
        self, ns: str, stored: StoredSettings
    ) -> tuple[pb.NamespaceSettings, pb.NamespaceSettings]:
        """The settings as stored, and as they apply (the cache now holds them)."""
        effective = as_settings(self._cache.remember(ns, stored), stored)
        return _message(ns, stored, self._leaves), _message(ns, effective, self._leaves)

    def _changes(self, request: pb.UpdateNamespaceSettingsRequest) -> dict[str, Value]:
        """The checked value of each setting the update writes (None clears)."""
        new = request.settings
        populated = {
            f"{group}.{name}"
            for group in self._groups
            for name in update_masks.populated(getattr(new, group))
        }
        named = update_masks.paths_to_write(
            request.update_mask,
            allowed=(*self._paths, *self._groups),
            full_replace=self._paths,
            populated=populated,
        )
        if not named:
            raise ApiError.invalid(
                "settings",
                "required: set at least one setting, or name the settings to clear in update_mask",
            )
        return {
            leaf.setting: leaf.read(leaf.parent(new), leaf.name, f"settings.{leaf.path}")
            for leaf in self._leaves
            if leaf.path in named or leaf.path.split(".")[0] in named
        }

    async def GetNamespaceSettings(
        self, request: pb.GetNamespaceSettingsRequest, context: Context
    ) -> pb.GetNamespaceSettingsResponse:
        ns = validate.namespace(request.namespace)
        settings, effective = self._both(ns, await self._store.get(ns))
        return pb.GetNamespaceSettingsResponse(settings=settings, effective=effective)

    async def UpdateNamespaceSettings(
        self, request: pb.UpdateNamespaceSettingsRequest, context: Context
    ) -> pb.UpdateNamespaceSettingsResponse:
        ns = validate.namespace(request.namespace)
        expected = validate.expected_version(request, creates=True)
        changes = self._changes(request)
        try:
            stored = await self._store.update(ns, changes, now_ms=now_ms(), expected=expected)
        except VersionMismatch as mismatch:
            raise ApiError.version_mismatch(
                f"the settings of namespace {ns!r}", expected or 0, mismatch.current
            ) from None
        settings, effective = self._both(ns, stored)
        return pb.UpdateNamespaceSettingsResponse(settings=settings, effective=effective)
