"""The typed arguments of every Lua script: one dataclass per script.

A class's fields are the script's KEYS, then its ARGV, in order (see
`store/scripts.py`); `LUA` names the script. A call site names every
argument, `scripts.load(redis, AppendTurns)` gives the script to call with
instances, and `tests/test_lua_scripts.py` checks each class against the
header of its script, which documents what each argument means.

The classes are not frozen (an instance is built and handed to its script
at once): a frozen dataclass's `__init__` costs more than the rest of the
argument handling of an AppendTurns together (1.5 µs against 1 µs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import DedupQueries
from memrpc.store.redis_mux import Arg
from memrpc.store.scripts import Call, Groups, Key, Keys


@dataclass(slots=True)
class AppendTurns(Call):
    """Appends turns to a session's window and its thread's event log;
    `request` holds the request key when there is a request id (see
    `store/request_ids.py`); `turns` are (window entry, event payload)
    pairs."""

    LUA = "append_turns"
    LIBS = ("session", "events", "request_ids")

    session: Key
    index: Key
    stream: Key
    feed: Key
    request: Keys
    thread: str
    now_ms: int
    ttl_ms: int
    expected_version: str
    window_turns: int
    window_bytes: int
    log_max_len: int
    feed_max_len: int
    user: str
    user_index: str
    user_threads: str
    fingerprint: str
    remember_ms: int
    form_memories: str
    turns: Groups


@dataclass(slots=True)
class SessionUpdate(Call):
    """Sets session fields; `fields` are (field, value) pairs."""

    LUA = "session_update"
    LIBS = ("session", "events")

    session: Key
    index: Key
    stream: Key
    feed: Key
    thread: str
    now_ms: int
    ttl_ms: int
    expected_version: str
    set_user: str
    user: str
    user_index: str
    user_threads: str
    log_max_len: int
    feed_max_len: int
    fields: Groups


@dataclass(slots=True)
class SummaryFold(Call):
    """Writes a fold of a session's running summary, if the session is still
    as the fold read it (`store/summaries.py`)."""

    LUA = "summary_fold"
    LIBS = ("session",)

    session: Key
    create_ms: str
    folded_through: str
    through: str
    first: str
    last: str
    turns: int
    skipped: int
    summary: str
    now_ms: int
    summarizer: str


@dataclass(slots=True)
class MemoryForm(Call):
    """Forms the memories of a chunk of a session's turns, if the session is
    still as the chunk was read (`store/formation.py`); `items` are
    `insert_item`s, one per document of `documents`."""

    LUA = "memory_form"
    LIBS = ("memory", "session")

    session: Key
    sequence: Key
    documents: Keys
    create_ms: str
    formed_through: str
    through: str
    turns: int
    skipped: int
    index: str
    legacy_index: str
    vector_type: VectorType
    max_distance: float
    prefix: str
    items: Groups


@dataclass(slots=True)
class DeleteSession(Call):
    """Deletes a session and its listing entries, at an expected version
    unless `expected_version` is ''."""

    LUA = "delete_session"
    LIBS = ("session",)

    session: Key
    index: Key
    thread: str
    expected_version: str


@dataclass(slots=True)
class ListSessions(Call):
    """A page of a listing index."""

    LUA = "list_sessions"

    index: Key
    prefix: str
    page_size: int
    full: str
    cursor_score: str
    cursor_thread: str
    budget: int


@dataclass(slots=True)
class AppendEvents(Call):
    """Appends events to a thread's log and the namespace feed; `request`
    holds the request key when there is a request id (see
    `store/request_ids.py`); `events` are `event_group`s."""

    LUA = "append_events"
    LIBS = ("events", "request_ids")

    stream: Key
    feed: Key
    request: Keys
    max_len: int
    feed_max_len: int
    thread: str
    fingerprint: str
    remember_ms: int
    events: Groups


def event_group(fields: Sequence[Arg]) -> list[Arg]:
    """An event of `AppendEvents.events`: its stream fields, counted."""
    return [len(fields), *fields]


@dataclass(slots=True)
class EventsAfter(Call):
    """Reads a thread's log after a cursor, with where the log starts."""

    LUA = "events_after"

    stream: Key
    after: str
    count: int


@dataclass(slots=True)
class EventsReceive(Call):
    """Hands feed entries to a consumer of a group."""

    LUA = "events_receive"

    feed: Key
    group: str
    consumer: str
    min_idle_ms: int
    count: int
    max_bytes: int
    steps: int
    claim_cursor: str | bytes


@dataclass(slots=True)
class EventsDeleteGroup(Call):
    """Destroys a consumer group of a feed."""

    LUA = "events_delete_group"

    feed: Key
    group: str


@dataclass(slots=True)
class JobDeadLetter(Call):
    """Records a feed entry a background job gave up on, and acknowledges it."""

    LUA = "job_dead_letter"

    feed: Key
    dead: Key
    group: str
    entry_id: str
    deliveries: int
    error: str
    dead_max_len: int


@dataclass(slots=True)
class DedupInsert(Call):
    """Deduplicates and creates memories, each item once under a request id;
    `items` are `insert_item`s, one per document of `documents`; `existing`
    is what an item whose document exists does: `fail` or `replace`."""

    LUA = "dedup_insert"
    LIBS = ("memory",)

    request: Key
    sequence: Key
    documents: Keys
    index: str
    legacy_index: str
    vector_type: VectorType
    max_distance: float
    prefix: str
    fingerprint: str
    remember_ms: int
    first: int
    existing: str
    items: Groups


@dataclass(frozen=True)
class VectorWrite:
    """The vectors a write stores: `vector` (a blob of the index's vector
    type, also the dedup query's parameter) in the Hash field `field`, and
    `other` in `other_field` ('' for none: the other model's during a
    move)."""

    vector: bytes
    field: str
    other_field: str = ""
    other: bytes = b""


def insert_item(
    *, queries: DedupQueries, vectors: VectorWrite, expire_ms: int, document: str
) -> tuple[Arg, ...]:
    """An item of `DedupInsert.items` (and `MemoryForm.items`), in the order
    its script reads it (`arg_item` in `lua/lib/memory.lua`): `document` is
    the JSON object of the memory's other Hash fields (all but the vector
    fields and `q`), each a string."""
    return (
        queries.exact, queries.legacy_exact, queries.knn, vectors.vector, vectors.field,
        vectors.other_field, vectors.other, expire_ms, document,
    )  # fmt: skip


@dataclass(slots=True)
class DedupUpdate(Call):
    """Deduplicates and updates one memory at an expected version; `vector`
    is b'' (kept) or the new blob, written to `field` (and `other_vector`
    to `other_field` unless ''); `pinned` is '' (kept), '1' or '0';
    `changes` are (Hash field, value) pairs, '' to remove the field."""

    LUA = "dedup_update"
    LIBS = ("memory",)

    document: Key
    probe: Key
    index: str
    legacy_index: str
    vector_type: VectorType
    max_distance: float
    prefix: str
    expected_version: str
    exact: str
    legacy_exact: str
    knn: str
    vector: bytes
    field: str
    other_field: str
    other_vector: bytes
    expire_ms: str
    pinned: str
    changes: Groups


@dataclass(slots=True)
class MemoryAccess(Call):
    """Records searches that returned memories; `accesses` are (count, last
    ms) pairs, one per document of `documents`."""

    LUA = "memory_access"
    LIBS = ("memory",)

    documents: Keys
    prefix: str
    vector_type: VectorType
    accesses: Groups


@dataclass(slots=True)
class DeleteMemory(Call):
    """Deletes one memory at an expected version."""

    LUA = "delete_memory"
    LIBS = ("memory",)

    document: Key
    expected_version: str
    vector_type: VectorType


@dataclass(slots=True)
class IndexQuery(Call):
    """One `FT.SEARCH` of a namespace's memories on a Redis Cluster, with
    the Hash fields of each hit that Search cannot read there
    (`store/memory_indexes.py`): `words` are those `loaded` fields, then
    the command; `scored` is 1 when it has `WITHSCORES`."""

    LUA = "index_query"

    probe: Key
    prefix: Key
    scored: int
    loaded: int
    words: Groups


@dataclass(slots=True)
class DeleteMemories(Call):
    """Deletes a batch of the memories a query matches, in the index and in
    the legacy one."""

    LUA = "delete_memories"
    LIBS = ("memory",)

    prefix: Key
    probe: Key
    index: str
    legacy_index: str
    query: str
    batch_size: int


@dataclass(slots=True)
class NamespaceSettingsUpdate(Call):
    """Sets and clears a namespace's settings at an expected version unless
    `expected_version` is ''; `fields` are (field, value) pairs, '' to clear."""

    LUA = "namespace_settings_update"

    settings: Key
    now_ms: int
    expected_version: str
    fields: Groups


@dataclass(slots=True)
class MemoryMerge(Call):
    """Merges one memory into a near duplicate at the versions read, with
    its event (`store/consolidation.py`)."""

    LUA = "memory_merge"
    LIBS = ("memory", "events")

    survivor: Key
    loser: Key
    stream: Key
    feed: Key
    survivor_version: int
    loser_version: int
    distance: float
    thread: str
    event_type: str
    log_max_len: int
    feed_max_len: int
    vector_type: VectorType


@dataclass(slots=True)
class MemorySupersede(Call):
    """Marks an older memory superseded by a newer one at the versions
    read, with its event (`store/consolidation.py`)."""

    LUA = "memory_supersede"
    LIBS = ("memory", "events")

    older: Key
    newer: Key
    stream: Key
    feed: Key
    older_version: int
    newer_version: int
    flag: str
    thread: str
    event_type: str
    log_max_len: int
    feed_max_len: int
    vector_type: VectorType


@dataclass(slots=True)
class Lease(Call):
    """Takes a periodic job's lease or sets its time left, as `action`
    (`take`, `keep`) says (`store/leases.py`)."""

    LUA = "lease"

    lease: Key
    action: str
    token: str
    ttl_ms: int


@dataclass(slots=True)
class MemoryForget(Call):
    """Forgets memories chosen by a forgetting rule, each if it is as read,
    and records each in the memory-changes thread (`store/forgetting.py`);
    `expected` holds (version, `r` as read or '') per document."""

    LUA = "memory_forget"
    LIBS = ("memory", "events")

    stream: Key
    feed: Key
    probe: Key
    documents: Keys
    rule: str
    event_type: str
    thread: str
    log_max_len: int
    feed_max_len: int
    index: str
    count_query: str
    keep: int
    vector_type: VectorType
    expected: Groups


@dataclass(slots=True)
class LanguageModelBudget(Call):
    """Takes a call from a namespace's budget of language model calls in a
    window (`store/model_budget.py`)."""

    LUA = "language_model_budget"

    counter: Key
    limit: int
    ttl_ms: int


@dataclass(slots=True)
class ModelRecord(Call):
    """Records the embedding model unless one is recorded, and the model to
    move to (`next_*`, '' and 0 for none) unless a move is recorded, and
    returns both records (`store/model_record.py`)."""

    LUA = "model_record"

    record: Key
    next: Key
    name: str
    dim: int
    fingerprint: str
    now_ms: int
    next_name: str
    next_dim: int
    next_fingerprint: str
    next_field: str


@dataclass(slots=True)
class MemoryUpgrade(Call):
    """Converts memories from JSON documents of schema 2 to Hashes and reads
    `fields` of each (`store/migration.py`); at most `MIGRATION_BATCH`
    documents; `fields` are groups of one field name each."""

    LUA = "memory_upgrade"
    LIBS = ("memory",)

    documents: Keys
    vector_type: VectorType
    fields: Groups


@dataclass(slots=True)
class ReembedRead(Call):
    """Reads the text hash and text of the memories lacking `field`
    (`store/reembed.py`); at most `REEMBED_BATCH` documents."""

    LUA = "reembed_read"

    documents: Keys
    prefix: str
    field: str


@dataclass(slots=True)
class ReembedWrite(Call):
    """Writes `field` of the memories still lacking it at the text hash
    read; `items` are (text hash, vector blob) per document."""

    LUA = "reembed_write"

    documents: Keys
    prefix: str
    field: str
    items: Groups


@dataclass(slots=True)
class ReembedCleanup(Call):
    """Removes the old model's vector field `field` of memories."""

    LUA = "reembed_cleanup"

    documents: Keys
    prefix: str
    field: str


@dataclass(slots=True)
class ReembedFinish(Call):
    """Makes the model moved to (`fingerprint`) the default and deletes the
    record of the move (`store/reembed.py`)."""

    LUA = "reembed_finish"

    record: Key
    next: Key
    fingerprint: str
    now_ms: int


@dataclass(slots=True)
class CredentialsAudit(Call):
    """Records in the server-wide audit log how a credentials file's
    entries differ from those last recorded, and records them
    (`store/audit_log.py`); `entries` are (id, fingerprint) pairs."""

    LUA = "credentials_audit"

    state: Key
    log: Key
    max_len: int
    source: str
    entries: Groups


@dataclass(slots=True)
class CheckpointPut(Call):
    """Stores a checkpoint (`store/checkpoints.py`); the thread, checkpoint
    namespace and run as their `keys.tag_value` tags."""

    LUA = "checkpoint_put"
    LIBS = ("checkpoints",)

    thread: Key
    thread_tag: str
    cpns: str
    checkpoint_id: str
    run_tag: str
    run: str
    parent: str
    metadata: str
    encoding: str
    data: bytes
    now_ms: int
    namespace: str


@dataclass(slots=True)
class CheckpointWrites(Call):
    """Records pending writes; `writes` are (field, value, replace) triples."""

    LUA = "checkpoint_writes"
    LIBS = ("checkpoints",)

    thread: Key
    thread_tag: str
    cpns: str
    checkpoint_id: str
    namespace: str
    writes: Groups


@dataclass(slots=True)
class CheckpointRead(Call):
    """Reads one checkpoint (`checkpoint_id`), or up to `count` of the
    highest ids below `before`, with their pending writes."""

    LUA = "checkpoint_read"
    LIBS = ("checkpoints",)

    thread: Key
    thread_tag: str
    cpns: str
    checkpoint_id: str
    before: str
    count: int
    namespace: str


@dataclass(slots=True)
class CheckpointPrune(Call):
    """Deletes a thread's checkpoints, keeping the newest of each checkpoint
    namespace when `keep` is 1."""

    LUA = "checkpoint_prune"
    LIBS = ("checkpoints",)

    thread: Key
    thread_tag: str
    keep: int
    namespace: str


@dataclass(slots=True)
class CheckpointDeleteRuns(Call):
    """Deletes the checkpoints of the runs whose Sets are `runs`."""

    LUA = "checkpoint_delete_runs"
    LIBS = ("checkpoints",)

    runs: Keys
    namespace: str


@dataclass(slots=True)
class CheckpointCopy(Call):
    """Copies a thread's checkpoints to another thread."""

    LUA = "checkpoint_copy"
    LIBS = ("checkpoints",)

    source: Key
    target: Key
    source_thread: str
    target_thread: str
    namespace: str
