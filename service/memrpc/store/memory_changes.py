"""Where the server's jobs record what they do to long-term memories: the
events of each namespace's thread `CHANGES_THREAD` in the event log, one
per memory forgotten, merged or superseded, and one per call to the
language model a job gave up on (payloads: `Event.type` in
`event_log.proto`). Clients read that thread like any other, and cannot
write it: thread ids starting with `RESERVED_THREAD_PREFIX` are the
server's."""

from __future__ import annotations

from enum import StrEnum

# Thread ids starting with this are written by the server only.
RESERVED_THREAD_PREFIX = "memrpc."
# The thread of a namespace's memory changes.
CHANGES_THREAD = RESERVED_THREAD_PREFIX + "memories"


class Change(StrEnum):
    """The event type of a memory change."""

    FORGOTTEN = "memrpc.memory_forgotten"
    MERGED = "memrpc.memory_merged"
    SUPERSEDED = "memrpc.memory_superseded"
    LANGUAGE_MODEL_FAILED = "memrpc.language_model_failed"


class ForgetRule(StrEnum):
    """Why the forgetting job forgot a memory (`rule` of its event)."""

    # Beyond `ForgettingPolicy.max_memories_per_user`.
    BUDGET = "budget"
    # Not recalled for `ForgettingPolicy.forget_unrecalled_after`.
    UNRECALLED = "unrecalled"
