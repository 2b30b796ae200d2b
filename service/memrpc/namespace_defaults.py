"""The defaults a request falls back on, per namespace.

Precedence, for every default: a value in the request wins; else the
namespace's setting (`Namespaces.UpdateNamespaceSettings`); else the
server's default (`memrpc/limits.py` and the server settings).
`NamespaceDefaults` is that resolution for one namespace: every field set.
A `DefaultsSource` gives it for any namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from memrpc import limits as lim
from memrpc.limits import Limits


@dataclass(frozen=True)
class SummaryPolicy:
    """How the running-summary job treats a namespace's threads."""

    enabled: bool
    # The most characters a summary holds.
    max_chars: int
    # How many turns must have left a window before a fold runs.
    min_fold_turns: int


@dataclass(frozen=True)
class FormationPolicy:
    """How the memory-formation job treats a namespace's threads."""

    enabled: bool
    # How many turns that left a window one memory records.
    turns_per_memory: int
    # The most characters of a formed memory's text.
    max_chars: int
    # With a language model: also extract facts as semantic memories.
    extract_facts: bool


class RecallMode(StrEnum):
    """How a search finds memories (`memrpc.v1.RecallMode`)."""

    VECTOR = "vector"
    KEYWORD = "keyword"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class ConsolidationPolicy:
    """How the consolidation job treats a namespace's memories."""

    enabled: bool
    # The widest cosine distance at which two memories are merged.
    max_distance: float
    # How often the job runs over the namespace.
    interval_s: float


@dataclass(frozen=True)
class ForgettingPolicy:
    """What the forgetting job forgets of a namespace's memories."""

    enabled: bool
    # The most unpinned memories a user keeps; 0: no budget.
    max_memories_per_user: int
    # Memories unrecalled this long are forgotten; 0: never.
    unrecalled_s: float
    # How often the job runs over the namespace.
    interval_s: float


@dataclass(frozen=True)
class LanguageModelPolicy:
    """A namespace's use of the server's language model (when it has one)."""

    enabled: bool
    # Calls of all the namespace's jobs per minute, at most.
    max_calls_per_minute: int


@dataclass(frozen=True)
class NamespaceDefaults:
    """Every default of one namespace, resolved."""

    session_ttl_s: float
    window_turns: int
    window_bytes: int
    dedup_distance: float
    recall_distance: float
    recall_mode: RecallMode
    keyword_weight: float
    neighbor_weight: float
    time_weight: float
    episodic_ttl_s: float
    summaries: SummaryPolicy
    formation: FormationPolicy
    consolidation: ConsolidationPolicy
    forgetting: ForgettingPolicy
    language_model: LanguageModelPolicy


class DefaultsSource(Protocol):
    """Gives the resolved defaults of any namespace."""

    async def defaults(self, ns: str) -> NamespaceDefaults:
        """The defaults that apply to `ns` now."""
        ...


def server_defaults(limits: Limits) -> NamespaceDefaults:
    """The server's defaults: what a namespace with no settings gets."""
    return NamespaceDefaults(
        session_ttl_s=lim.SESSION_TTL_S.default,
        window_turns=int(lim.WINDOW_TURNS.default),
        window_bytes=limits.max_window_bytes,
        dedup_distance=lim.DEDUP_DISTANCE.default,
        recall_distance=lim.SEARCH_DISTANCE.default,
        recall_mode=RecallMode.HYBRID,
        keyword_weight=lim.KEYWORD_WEIGHT.default,
        neighbor_weight=lim.NEIGHBOR_WEIGHT.default,
        time_weight=lim.TIME_WEIGHT.default,
        episodic_ttl_s=float(lim.EPISODIC_TTL_S),
        summaries=SummaryPolicy(
            enabled=True,
            max_chars=int(lim.SUMMARY_MAX_CHARS.default),
            min_fold_turns=int(lim.SUMMARY_MIN_FOLD_TURNS.default),
        ),
        formation=FormationPolicy(
            enabled=True,
            turns_per_memory=int(lim.FORMATION_TURNS_PER_MEMORY.default),
            max_chars=int(limits.formation_max_chars.default),
            extract_facts=True,
        ),
        consolidation=ConsolidationPolicy(
            enabled=True,
            max_distance=lim.CONSOLIDATION_DISTANCE.default,
            interval_s=lim.CONSOLIDATION_INTERVAL_S.default,
        ),
        forgetting=ForgettingPolicy(
            enabled=True,
            max_memories_per_user=int(lim.FORGETTING_MAX_PER_USER.default),
            unrecalled_s=0.0,
            interval_s=lim.FORGETTING_INTERVAL_S.default,
        ),
        language_model=LanguageModelPolicy(
            enabled=True, max_calls_per_minute=int(lim.LLM_CALLS_PER_MINUTE.default)
        ),
    )
