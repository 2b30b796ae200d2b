"""The Redis key layout.

Every key of a namespace carries the namespace as its Redis Cluster hash tag
(`{ns}`), so the Lua scripts that touch several keys of one namespace touch
one slot. Namespaces cannot contain braces, so the tag is always the
namespace itself whatever the rest of the key holds.

| key                                      | type   | holds                            |
|------------------------------------------|--------|----------------------------------|
| `memrpc:ses:{ns}:<thread>`               | Hash   | a thread's working memory        |
| `memrpc:sesidx:{ns}`                     | ZSet   | thread ids by last update (ms)   |
| `memrpc:sesidx:{ns}:u:<user hex>`        | ZSet   | one user's thread ids by update  |
| `memrpc:userthreads:{ns}:<user hex>`     | ZSet   | a user's threads ever, no TTL    |
| `memrpc:mem:{ns}:<id>`                   | Hash   | a long-term memory               |
| `memrpc:unreadable:{ns}:<id>`            | JSON   | a schema-2 document the          |
|                                          |        | migration could not read, set    |
|                                          |        | aside (`store/set_aside.py`)     |
| `memrpc:memreq:{ns}:<request>`           | Hash   | CreateMemories request id, 24 h  |
| `memrpc:probe:{ns}`                      | none   | never written: declared by every |
|                                          |        | search of the namespace's        |
|                                          |        | memories on a Redis Cluster      |
|                                          |        | (`store/memory_indexes.py`)      |
| `memrpc:memseq:{ns}`                     | String | how many memories were written:  |
|                                          |        | each new one's number (`q`)      |
| `memrpc:ev:{ns}:<thread>`                | Stream | a thread's event log             |
| `memrpc:evreq:{ns}:<request>:<thread>`   | String | an AppendEvents request id, 24 h |
| `memrpc:turnreq:{ns}:<request>:<thread>` | String | an AppendTurns request id, 24 h  |
| `memrpc:feed:{ns}`                       | Stream | every event of the namespace     |
| `memrpc:jobdead:{ns}`                    | Stream | feed entries a job gave up on    |
| `memrpc:nsset:{ns}`                      | Hash   | the namespace's settings         |
| `memrpc:consol:{ns}`                     | Hash   | the consolidation job's cursor   |
| `memrpc:lease:{ns}:<job>`                | String | a periodic job's lease, its PX   |
|                                          |        | the time until it may run again  |
| `memrpc:lease:migration`                 | String | the schema migration's lease     |
| `memrpc:llmcalls:{ns}:<window>`          | String | language model calls of a minute |
| `memrpc:namespaces`                      | Set    | namespaces that ever had turns   |
|                                          |        | or created memories              |
| `memrpc:schema`                          | String | the storage schema of the        |
|                                          |        | memories (4: Hashes)             |
| `memrpc:model`                           | Hash   | the embedding model of the       |
|                                          |        | stored vectors: name, dim,       |
|                                          |        | fingerprint, recorded_ms, field  |
| `memrpc:model:next{memrpc:model}`        | Hash   | the model a move goes to, while  |
|                                          |        | it runs: the same fields         |
| `memrpc:reembed:{ns}`                    | Hash   | a namespace's move to the next   |
|                                          |        | model: counts, switched (when),  |
|                                          |        | done, cleaned                    |
| `memrpc:cpthread:{ns}:<thread hex>`      | Set    | a thread's checkpoint namespaces |
|                                          |        | (each `<cpns tag>`)              |
| `memrpc:cpidx:{ns}:<thread hex>:<cpns tag>` | ZSet | a checkpoint namespace's        |
|                                          |        | checkpoint ids (score 0, by id)  |
| `memrpc:cpwrote:{ns}:<thread hex>:<cpns tag>` | Set | its checkpoint ids with writes  |
| `memrpc:cp:{ns}:<thread hex>:<cpns tag>:<id>` | Hash | a checkpoint                     |
| `memrpc:cpw:{ns}:<thread hex>:<cpns tag>:<id>` | Hash | a checkpoint's pending writes   |
| `memrpc:cprun:{ns}:<run hex>`            | Set    | a run's checkpoints, each        |
|                                          |        | `<thread hex>:<cpns tag>:<id>`   |

On a Redis Cluster each primary's search index is named
`memrpc:idx:mem:v4{<tag>}`, the tag one of the primary's slots
(`store/memory_indexes.py`).

The audit log of each namespace, `memrpc:audit{memrpc:audit}:<ns>` (a
Stream; `<ns>` is `*` for the server-wide records), is outside every
namespace on purpose: its hash tag is not the namespace, so that nothing
done to a namespace's keys (erasure, deletion) reaches it; every audit log
shares one Redis Cluster slot, with `memrpc:auditcred{memrpc:audit}:<file>`
(a Hash: the credentials of a credentials file as last recorded). The
cursor of a namespace's deletion while it runs,
`memrpc:nsdel{memrpc:nsdel}:<ns>` (`store/namespace_deletion.py`), is
outside the namespace for the same reason.

`memrpc:namespaces`, `memrpc:schema`, `memrpc:model` and
`memrpc:model:next{memrpc:model}` are the keys outside every namespace (no
namespace tag; the last tagged with the name of `memrpc:model`, to share
its Redis Cluster slot).
The background jobs (`memrpc/jobs/`) find the namespaces to work on in
`memrpc:namespaces`: a server process adds a namespace the first time it
sees an AppendTurns or a CreateMemories in it (`store/namespaces.py`),
outside the write's script. `memrpc:model` records the default model, whose
vectors every namespace's memories hold unless moved: the first server or
worker to start records its own, every later one compares its own with it
(`store/model_record.py`); `memrpc:model:next{...}` and `memrpc:reembed:{ns}`
hold a move to another model (`store/reembed.py`). `memrpc:lease:migration`, the
lease of the migration that covers every namespace, has no hash tag either.
"""

from __future__ import annotations

PREFIX = "memrpc"
MEMORY_PREFIX = f"{PREFIX}:mem:"


def tag_value(value: str) -> str:
    """A user-supplied value as a Redis Search TAG token: its UTF-8 in hex,
    or `none` (not hex) for the empty value (no user, no thread).

    Hex needs no escaping in a query, keeps separators (`,`) and case intact,
    and cannot be confused with query syntax, whatever the value holds.
    """
    return value.encode().hex() if value else "none"


def session(ns: str, thread: str) -> str:
    """The Hash holding a thread's working memory."""
    return f"{PREFIX}:ses:{{{ns}}}:{thread}"


def session_index(ns: str) -> str:
    """The sorted set of a namespace's thread ids by last update."""
    return f"{PREFIX}:sesidx:{{{ns}}}"


def session_user_index(ns: str, user: str) -> str:
    """The sorted set of one user's thread ids by last update."""
    return f"{PREFIX}:sesidx:{{{ns}}}:u:{tag_value(user)}"


def user_threads(ns: str, user: str) -> str:
    """The sorted set of every thread a session of the user was ever on,
    scored by when it was first seen (ms): durable (no TTL, kept when the
    sessions expire or are deleted, like the logs and memories they leave),
    so that later work on a user (forgetting, exports) finds all of it."""
    return f"{PREFIX}:userthreads:{{{ns}}}:{tag_value(user)}"


def memory(ns: str, memory_id: str) -> str:
    """The JSON document of a long-term memory."""
    return f"{MEMORY_PREFIX}{{{ns}}}:{memory_id}"


def unreadable_memory(key: str) -> str:
    """Where a key under `MEMORY_PREFIX` that holds no memory the converter
    can read is set aside (`store/set_aside.py`): the same namespace and
    id, outside every index's prefix."""
    return f"{PREFIX}:unreadable:{key.removeprefix(MEMORY_PREFIX)}"


def probe(ns: str) -> str:
    """A key of the namespace's slot that is never written: a script that
    declares it with another key of the namespace never runs while a Redis
    Cluster moves the slot (`store/memory_indexes.py`)."""
    return f"{PREFIX}:probe:{{{ns}}}"


def memory_sequence(ns: str) -> str:
    """The counter of the memories written in a namespace, whose next value
    a new memory takes as its number, field `q` (`lua/lib/memory.lua`)."""
    return f"{PREFIX}:memseq:{{{ns}}}"


def memory_request(ns: str, request_id: str) -> str:
    """The Hash remembering a create's request id and each item's outcome
    (`store/long_term.py`). Not under `MEMORY_PREFIX`: the index never
    sees it."""
    return f"{PREFIX}:memreq:{{{ns}}}:{request_id}"


def events(ns: str, thread: str) -> str:
    """The Stream of a thread's event log."""
    return f"{PREFIX}:ev:{{{ns}}}:{thread}"


def append_request(ns: str, request_id: str, thread: str) -> str:
    """The String remembering an append's request id and result. Request ids
    have no `:`, so the thread id that follows cannot shift the split."""
    return f"{PREFIX}:evreq:{{{ns}}}:{request_id}:{thread}"


def turns_request(ns: str, request_id: str, thread: str) -> str:
    """The String remembering an append of turns' request id and result
    (`store/request_ids.py`), apart from `append_request`: the two methods'
    request ids are independent."""
    return f"{PREFIX}:turnreq:{{{ns}}}:{request_id}:{thread}"


def feed(ns: str) -> str:
    """The Stream of every event of a namespace, read by consumer groups."""
    return f"{PREFIX}:feed:{{{ns}}}"


def dead_letters(ns: str) -> str:
    """The Stream of the feed entries a background job gave up on: each
    entry's fields, the job, its last error and its deliveries
    (`store/job_feeds.py`)."""
    return f"{PREFIX}:jobdead:{{{ns}}}"


def namespaces() -> str:
    """The Set of the namespaces that ever had turns appended or memories
    created, whose feeds and memories the background jobs read. Not
    namespace-tagged."""
    return f"{PREFIX}:namespaces"


def storage_schema() -> str:
    """The record of the storage schema the memories are written in
    (`store/storage_schema.py`)."""
    return f"{PREFIX}:schema"


def model() -> str:
    """The Hash recording the embedding model that made the stored vectors
    (`store/model_record.py`). Not namespace-tagged."""
    return f"{PREFIX}:model"


def model_next() -> str:
    """The Hash recording the embedding model a move goes to, present while
    the move runs (`store/model_record.py`, `store/reembed.py`). Not
    namespace-tagged: tagged with the name of `model()`, so that the two
    share a Redis Cluster slot, which the scripts that read or write both
    need. (Named `memrpc:model:next` before: `LEGACY_MODEL_NEXT`.)"""
    return f"{PREFIX}:model:next{{{model()}}}"


# The name `model_next` had before it shared `model`'s slot; a server
# renames a record of that name when it starts (`model_record.claim`).
LEGACY_MODEL_NEXT = f"{PREFIX}:model:next"


def reembed(ns: str) -> str:
    """The Hash of the move of a namespace's vectors to the model of
    `model_next` (`store/reembed.py`): its counts, whether (and when) it
    has switched to that model, whether it is done."""
    return f"{PREFIX}:reembed:{{{ns}}}"


def namespace_settings(ns: str) -> str:
    """The Hash of a namespace's settings (`store/namespace_settings.py`)."""
    return f"{PREFIX}:nsset:{{{ns}}}"


def consolidation(ns: str) -> str:
    """The Hash of the consolidation job's walk over a namespace's memories
    (`store/consolidation.py`)."""
    return f"{PREFIX}:consol:{{{ns}}}"


def lease(ns: str, job: str) -> str:
    """The String a periodic job's runner sets (`SET NX PX`) to run the job
    over a namespace: while it exists, no runner runs that job there
    (`jobs/periodic.py`). It holds the runner's token."""
    return f"{PREFIX}:lease:{{{ns}}}:{job}"


def replica_ack() -> str:
    """The counter `store/replica_ack.py` increments before each `WAIT`:
    the write that carries its connection's replication offset (on a Redis
    Cluster, one per primary, each with a tag of a slot it serves)."""
    return f"{PREFIX}:replica-ack"


def migration_lease() -> str:
    """The String the migration job's runner sets (`SET NX PX`) to convert
    memories of an older storage schema: while it exists, no other runner
    does (`jobs/migration.py`). It holds the runner's token. Not
    namespace-tagged: the migration covers every namespace."""
    return f"{PREFIX}:lease:migration"


def model_calls(ns: str, window: int) -> str:
    """The String counting a namespace's calls to the language model in the
    window (minute) `window` since the epoch (`store/model_budget.py`)."""
    return f"{PREFIX}:llmcalls:{{{ns}}}:{window}"


def audit(ns: str) -> str:
    """The Stream of a namespace's audit records (`store/audit_log.py`):
    tagged `{memrpc:audit}`, not with the namespace, so that no operation on
    the namespace's keys touches it."""
    return f"{PREFIX}:audit{{{PREFIX}:audit}}:{ns}"


def audit_credentials(source: str) -> str:
    """The Hash of the credentials of the file `source` (`keys-file`,
    `jwks-file`) as last recorded in the audit log: id to a digest of its
    definition (`store/audit_log.py`). Shares the audit logs' slot."""
    return f"{PREFIX}:auditcred{{{PREFIX}:audit}}:{source}"


def namespace_deletion(ns: str) -> str:
    """The String holding the `SCAN` cursor of a namespace's deletion while
    it runs (`store/namespace_deletion.py`): outside the namespace (tagged
    `{memrpc:nsdel}`), so that the deletion does not delete it."""
    return f"{PREFIX}:nsdel{{{PREFIX}:nsdel}}:{ns}"


def checkpoint_thread(ns: str, thread: str) -> str:
    """The Set of a thread's checkpoint namespaces, each as its `tag_value`."""
    return f"{PREFIX}:cpthread:{{{ns}}}:{tag_value(thread)}"


def checkpoint_index(ns: str, thread: str, cpns: str) -> str:
    """The ZSet of the ids of a thread's checkpoints in one checkpoint
    namespace, all scored 0 so that they sort by id."""
    return f"{PREFIX}:cpidx:{{{ns}}}:{tag_value(thread)}:{tag_value(cpns)}"


def checkpoint_written(ns: str, thread: str, cpns: str) -> str:
    """The Set of the checkpoint ids of a checkpoint namespace that have
    pending writes (stored or not)."""
    return f"{PREFIX}:cpwrote:{{{ns}}}:{tag_value(thread)}:{tag_value(cpns)}"


def checkpoint(ns: str, thread: str, cpns: str, checkpoint_id: str) -> str:
    """The Hash of a checkpoint. Checkpoint ids have no `:`."""
    return f"{PREFIX}:cp:{{{ns}}}:{tag_value(thread)}:{tag_value(cpns)}:{checkpoint_id}"


def checkpoint_writes(ns: str, thread: str, cpns: str, checkpoint_id: str) -> str:
    """The Hash of a checkpoint's pending writes, by `<task id>:<index>`."""
    return f"{PREFIX}:cpw:{{{ns}}}:{tag_value(thread)}:{tag_value(cpns)}:{checkpoint_id}"


def checkpoint_run(ns: str, run: str) -> str:
    """The Set of a run's checkpoints, each `<thread hex>:<cpns tag>:<id>`."""
    return f"{PREFIX}:cprun:{{{ns}}}:{tag_value(run)}"
