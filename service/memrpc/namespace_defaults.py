"""The defaults a request falls back on, per namespace.

Precedence, for every default: a value in the request wins; else the
namespace's setting (`Namespaces.UpdateNamespaceSettings`); else the
server's default (`memrpc/limits.py` and the server settings).
`NamespaceDefaults` is that resolution for one namespace: every field set.
A `DefaultsSource` gives it for any namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class NamespaceDefaults:
    """Every default of one namespace, resolved."""

    session_ttl_s: float
    window_turns: int
    window_bytes: int
    dedup_distance: float
    recall_distance: float
    episodic_ttl_s: float
    summaries: SummaryPolicy
    formation: FormationPolicy


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
        ),
    )
