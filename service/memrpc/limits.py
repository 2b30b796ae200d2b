"""Every limit a request is checked against, in one place.

Two kinds:
- **Fixed limits** are part of the contract: the proto comments state them,
  `rpc/validate.py` and the servicers enforce them from here, and
  `tests/test_contract_limits.py` fails when a proto comment, the README or
  `docs/security.md` disagrees with a value here.
- **Configurable limits** are server settings (`memrpc.config.Settings`
  declares each with its flag, variable, default and range); `Limits` holds
  the values a server runs with.

A `Range` is a request field with a default (used when the field is unset
or zero) and the bounds it must be within. Durations are in seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memrpc.config import Settings


@dataclass(frozen=True)
class Range:
    """A field's default when unset, and its inclusive bounds."""

    default: float
    low: float
    high: float


# -- Ids and names ------------------------------------------------------------
# Namespaces: 1 to this many of [A-Za-z0-9._-], starting alphanumeric.
MAX_NAMESPACE_CHARS = 64
# Thread ids, user ids and other id-like strings: printable characters.
MAX_ID_CHARS = 128
# Consumer group and consumer names: [A-Za-z0-9._:-].
MAX_NAME_CHARS = 64
# Consumer group names starting with this belong to the server's background
# jobs (`memrpc/jobs/`): a request naming one is refused.
RESERVED_GROUP_PREFIX = "memrpc."
# Request ids (AIP-155): [A-Za-z0-9._-], such as a UUID.
MAX_REQUEST_ID_CHARS = 64
# Client-chosen memory ids (AIP-122/133): [a-z0-9-], starting with a letter,
# not ending with a hyphen (`store/memory_ids.py`).
MAX_MEMORY_ID_CHARS = 63
# Correlation ids (`x-request-id` metadata, rpc/correlation.py): visible ASCII;
# a longer or other one is replaced, not refused.
MAX_CORRELATION_ID_CHARS = 128

# -- Metadata maps (sessions, turns, memories) and event attributes ------------
MAX_METADATA_ENTRIES = 64
MAX_METADATA_KEY_CHARS = 128
MAX_METADATA_VALUE_CHARS = 4096

# -- Working memory -------------------------------------------------------------
# A session's lifetime after its last write.
SESSION_TTL_S = Range(default=3600.0, low=1.0, high=30 * 24 * 3600.0)
# Turns kept in a session's window (`max_window_turns`).
WINDOW_TURNS = Range(default=20, low=1, high=1000)
MAX_ROLE_CHARS = 64
MAX_CONTENT_CHARS = 65_536
MAX_GOAL_CHARS = 4096
MAX_SCRATCHPAD_CHARS = 65_536
# `ListSessions.page_size`.
SESSION_PAGE_SIZE = Range(default=50, low=1, high=1000)

# -- Running summaries (`SessionSummary`, `NamespaceSettings.summaries`) -------
# The most characters a summary holds.
SUMMARY_MAX_CHARS = Range(default=2000, low=200, high=10_000)
# How many turns must have left the window before a fold runs.
SUMMARY_MIN_FOLD_TURNS = Range(default=1, low=1, high=100)
# The most turns one fold step reads and folds: a longer backlog is folded
# in several steps (`store/summaries.py`).
FOLD_MAX_TURNS = 100
# Log entries one read of a fold step fetches at a time (newest first).
FOLD_READ_PAGE = 200
# The extractive summarizer's bound on the work of one fold, however many
# turns it folds and however long they are: a sentence longer than this is
# cut into pieces of at most this many characters (at word boundaries) ...
SUMMARY_MAX_UNIT_CHARS = 300
# ... and a fold weighs (embeds, in one call) at most this many candidates,
# units of the summary and sentences of the new turns ...
SUMMARY_MAX_CANDIDATES = 160
# ... of which at most this many sentences of the new turns, each turn
# keeping its most specific ones when there are more: what the model embeds
# (a turn has 1 to 3 sentences worth keeping, usually). The summary's units,
# the rest at most (its most specific, when a large budget holds more), were
# embedded by the fold before: the embedder's cache has them, in the
# process that made that fold.
SUMMARY_MAX_NEW_CANDIDATES = 64

# -- Memory formation (`NamespaceSettings.formation`) --------------------------
# How many turns that left a window one formed memory records.
FORMATION_TURNS_PER_MEMORY = Range(default=10, low=1, high=100)
# The most characters of a formed memory's text.
FORMATION_MAX_CHARS = Range(default=1000, low=200, high=8192)
# Formation steps (one memory each) one run of the formation job makes, at
# most: a thread's backlog beyond that is formed by the next delivery of its
# entries.
FORMATION_MAX_STEPS = 20

# -- Consolidation and forgetting (`NamespaceSettings.consolidation`,
# `.forgetting`) -------------------------------------------------------------
# The widest cosine distance at which consolidation merges two memories.
CONSOLIDATION_DISTANCE = Range(default=0.20, low=0.0, high=1.0)
# How often the consolidation and the forgetting jobs run over a namespace.
CONSOLIDATION_INTERVAL_S = Range(default=3600.0, low=60.0, high=7 * 86_400.0)
FORGETTING_INTERVAL_S = Range(default=3600.0, low=60.0, high=7 * 86_400.0)
# Memories one run of the consolidation job examines, at most (one KNN
# search each, ~1 ms of Redis, and up to `CONSOLIDATION_NEIGHBOURS` merge
# scripts): a larger namespace is walked over several runs, from a cursor
# kept in Redis (`keys.consolidation`).
CONSOLIDATION_BATCH = 50
# The nearest memories of its scope each examined memory is compared with
# (the merge candidates, and the older ones asked about contradictions).
CONSOLIDATION_NEIGHBOURS = 8
# The widest cosine distance at which consolidation asks the language model
# whether a newer semantic memory contradicts an older one (beyond the
# merge distance: a contradiction words the same subject differently).
CONSOLIDATION_RELATED_DISTANCE = 0.5
# The most memories a user keeps under a forgetting budget (0: no budget).
FORGETTING_MAX_PER_USER = Range(default=0, low=0, high=10_000_000)
# How long a memory may go unrecalled before forgetting takes it (no
# default: never).
FORGETTING_UNRECALLED_S = Range(default=0.0, low=3600.0, high=10 * 365.25 * 86_400)

# Memories one run of the forgetting job examines and forgets at most, over
# both rules: a namespace with more to forget is done by the runs after it,
# which come a tick later rather than an interval.
FORGETTING_RUN_MEMORIES = 1000
# Memories one call of `lua/memory_forget.lua` forgets at most: each costs
# Redis its removal from the vector index and an event (~0.2 ms).
FORGET_BATCH = 8

# -- Language model (`NamespaceSettings.language_model`) ------------------------
# Calls a namespace's jobs make to the language model per minute, at most.
LLM_CALLS_PER_MINUTE = Range(default=60, low=1, high=100_000)
# The window of that budget: one Redis counter per namespace and window.
LLM_BUDGET_WINDOW_S = 60
# The most facts one formation step takes from the model (each a semantic
# memory written in the step's one script, two searches and a write each:
# `lua/memory_form.lua`, about 0.5 ms of Redis time a memory, 5 ms for a
# chunk with 8 facts); a longer list of facts is malformed output.
LLM_MAX_FACTS = 8
# The most characters of one extracted fact (within `--max-text-chars`).
LLM_FACT_MAX_CHARS = 500
# The most older facts one contradiction check sends with the newer one.
LLM_MAX_OLDER_FACTS = 20
# The delays between the attempts of one call: the first, doubled up to the
# last, each with up to as much again of random jitter; a 429's
# `Retry-After` replaces the delay, capped at the most.
LLM_BACKOFF_FIRST_S = 0.5
LLM_BACKOFF_LAST_S = 8.0
LLM_RETRY_AFTER_MAX_S = 30.0
# The most bytes of a reply read: a longer one is malformed.
LLM_MAX_REPLY_BYTES = 1024 * 1024

# -- Whole sessions ---------------------------------------------------------------
# A session read whole must fit in what a gRPC client receives by default in
# every runtime, 4 MiB. Its window is therefore bounded by bytes as well as
# by turns: `window_bytes()` leaves room for everything else a session holds
# at its limits. The window's bytes are those of its entries, each a turn as
# JSON (UTF-8, not ASCII-escaped), which is never smaller than the turn in
# protobuf but for the excess below.
CLIENT_RECEIVE_BYTES = 4 * 1024 * 1024
# The most bytes of UTF-8 one character takes.
MAX_UTF8_BYTES = 4
# A metadata map entry's tags and lengths in protobuf, at most.
MAP_ENTRY_FRAMING_BYTES = 11
# What a turn's protobuf can take beyond its window entry: 3 bytes per
# metadata entry (11 bytes of framing against the 8 of `"k": "v", ` in
# JSON); the rest of a turn's framing is smaller in protobuf than in JSON.
TURN_EXCESS_BYTES = 3 * MAX_METADATA_ENTRIES
# A GetSessionResponse's tags, lengths, timestamps, duration and counters
# outside strings, maps, turns and the summary, at most.
SESSION_FRAMING_BYTES = 128
# A SessionSummary's bytes besides its text, at most: tags and lengths, two
# event ids of up to 41 characters (`<ms>-<seq>`, 64-bit each), three
# counters, a timestamp, the summarizer's name (`MAX_NAME_CHARS`).
SUMMARY_FRAMING_BYTES = 256
# Everything a session read whole holds at its limits besides its metadata
# and its turns' entries: ids, goal, scratchpad and summary in 4-byte
# characters, the framing, the metadata's tags and lengths, and the protobuf
# excess of the most turns a window keeps (a turn's event id included).
SESSION_REST_BYTES = (
    MAX_UTF8_BYTES
    * (
        MAX_NAMESPACE_CHARS
        + 2 * MAX_ID_CHARS
        + MAX_GOAL_CHARS
        + MAX_SCRATCHPAD_CHARS
        + int(SUMMARY_MAX_CHARS.high)
    )
    + SESSION_FRAMING_BYTES
    + SUMMARY_FRAMING_BYTES
    + MAX_METADATA_ENTRIES * MAP_ENTRY_FRAMING_BYTES
    + int(WINDOW_TURNS.high) * TURN_EXCESS_BYTES
)
# The budget is rounded down to a multiple of this.
WINDOW_BYTES_STEP = 64 * 1024
# The least window budget a namespace may set (`SessionDefaults.max_window_bytes`);
# the most is the server's (`window_bytes()`).
MIN_NAMESPACE_WINDOW_BYTES = 1024


def window_bytes(max_metadata_bytes: int) -> int:
    """The byte budget of a session's window on a server whose metadata maps
    hold at most `max_metadata_bytes` (`--max-metadata-bytes`): what a 4 MiB
    response leaves once the rest of a session at its limits is counted.
    3,407,872 bytes (3328 KiB) at the default 256 KiB."""
    rest = SESSION_REST_BYTES + max_metadata_bytes
    return (CLIENT_RECEIVE_BYTES - rest) // WINDOW_BYTES_STEP * WINDOW_BYTES_STEP


# The least budget a server runs with: room for a turn of the longest content.
MIN_WINDOW_BYTES = MAX_UTF8_BYTES * MAX_CONTENT_CHARS
# The most `--max-metadata-bytes` can be: it leaves the window that least budget.
MAX_METADATA_BYTES_SETTING = CLIENT_RECEIVE_BYTES - SESSION_REST_BYTES - MIN_WINDOW_BYTES

# -- Long-term memory -----------------------------------------------------------
MAX_TOPICS = 32
MAX_TOPIC_CHARS = 64
# The most values of one field of a memory filter (also of one metadata filter).
MAX_FILTER_VALUES = 100
# The most metadata filters (`MemoryFilter.metadata`, ANDed) of one filter.
MAX_METADATA_FILTERS = 16
# A memory's lifetime (`ttl`); the default depends on its kind: an episodic
# memory lives this long, a semantic one for ever.
MEMORY_TTL_S = Range(default=0.0, low=1.0, high=10 * 365.25 * 86_400)
EPISODIC_TTL_S = 7 * 86_400
# Cosine distance under which a new memory repeats an existing one.
DEDUP_DISTANCE = Range(default=0.20, low=0.0, high=1.0)
# The HNSW graph of the memories' vectors (`store/memory_index.py`): each
# vector's neighbours per layer (`M`) and the candidates an insert examines
# (`EF_CONSTRUCTION`), Redis Search's defaults; and the candidates a search
# examines (`EF_RUNTIME`, Search's default 10): at 100,000 memories
# (`bench/scale.py`), recall@10 against exact KNN 0.39 at 10, 0.65 at 50
# for 0.2 ms more (docs/performance.md#scale). M 8 saves 60 B a memory,
# inserts 24% faster and restarts 40% sooner, but halves that recall
# (0.62 -> 0.34): M stays 16.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_RUNTIME = 50
# How the stored vectors hold each value (`memory_document.VectorType`, the
# index's vector `TYPE`), and how unless a server is told otherwise
# (`--vector-type`): FLOAT16 takes half the memory of FLOAT32 for the same
# dedup decisions and recall (docs/performance.md#float16-vectors).
VECTOR_TYPES = ("FLOAT32", "FLOAT16")
DEFAULT_VECTOR_TYPE = "FLOAT16"
# The largest value a Hash keeps in its compact encoding (a listpack): a
# memory's Hash with a larger one (a FLOAT32 vector is 1,536 B) is a
# hashtable, ~500 B more per memory (docs/performance.md). The embedded
# Redis is started with it; set `hash-max-listpack-value` as high on another
# Redis (`redis_check` says so at start when it is lower).
HASH_MAX_LISTPACK_VALUE = 4096
# Memories one step of the migration from storage schema 2 converts (one
# call of `lua/memory_upgrade.lua`): each costs Redis its JSON document's
# read and removal from the legacy index and its Hash's insert into the
# index, about 0.75 ms (FLOAT32) to 0.85 ms (FLOAT16) of Redis time at 5,000
# memories (INFO commandstats of the script, both indexes), so that a step
# holds Redis about 3 ms.
MIGRATION_BATCH = 4
# Memories one step of the re-embed job (`store/reembed.py`) handles at
# most: those of one search for a namespace's memories lacking the new
# model's vector (or, cleaning up, holding the old one), embedded in one
# batch of the background lane (`EMBED_BACKGROUND_BATCH` texts at a time)
# and written in one script call (a Hash field each, and its insert into
# the new field's HNSW).
REEMBED_BATCH = 32
# Cosine distance a search match may have at most.
SEARCH_DISTANCE = Range(default=0.55, low=0.0, high=2.0)
# The weight of the keyword score against the vector similarity in hybrid
# recall (`RECALL_MODE_HYBRID`): chosen by leave-one-out on the LoCoMo
# development conversations (docs/recall.md).
KEYWORD_WEIGHT = Range(default=0.3, low=0.0, high=10.0)
# A query word that more than this share of the memories a keyword search
# considers hold says little of which to recall (a speaker's name in the
# turns of a two-person conversation): keyword and hybrid recall leave it
# out, in a scope of at least `COMMON_WORD_SCOPE` memories, unless every
# word of the query is that common (`store/recall.py`). Redis Search's BM25
# counts a word's documents over the whole index, not the namespace, so it
# cannot tell (docs/recall.md).
COMMON_WORD_SHARE = 0.3
COMMON_WORD_SCOPE = 50
# Each server process remembers which words of the last this many search
# scopes were that common, for this long (`common_words.py`), so hybrid
# recall can embed a query while its words are counted.
COMMON_WORDS_SCOPES = 1024
COMMON_WORDS_TTL_S = 60.0
# The most words of a query text that keyword and hybrid recall look for
# (`store/keywords.py`): the first ones, once each, stop words left out.
MAX_KEYWORDS = 32
# The words whose stems the server keeps (`keywords.stem`, an LRU cache),
# and the memory texts whose term counts it keeps (`keyword_scores`).
STEM_CACHE_WORDS = 65_536
TERMS_CACHE_TEXTS = 8_192
# Okapi BM25's term-frequency saturation and length normalisation, as the
# server scores keyword matches (`store/keyword_scores.py`): k1 the usual
# 1.2; b 0.3 rather than the usual 0.75, chosen on the LoCoMo development
# conversations (docs/recall.md): a memory is a short text, and a longer one
# holding a word is no less about it.
BM25_K1 = 1.2
BM25_B = 0.3
# Hybrid recall weighs this many candidates of each search (the nearest by
# vector, the best by BM25) per match asked for.
HYBRID_CANDIDATES_PER_MATCH = 3
# Hybrid recall's neighbours (`store/recall.py`): a candidate gains this
# weight times the best score of the candidates written next to it in its
# thread (numbers `q` one apart), `NEIGHBOR_DECAY` times that for those two
# apart, up to `NEIGHBOR_SPAN` apart. Chosen by leave-one-out on the LoCoMo
# development conversations with the keyword weight (docs/recall.md): a
# turn that answers a question is often the reply to, or the lead-in of,
# the one that shares its words.
NEIGHBOR_WEIGHT = Range(default=0.3, low=0.0, high=10.0)
# What hybrid recall adds to the score of a candidate whose event time falls
# in the time the query names ("on 16 November, 2023", "in June";
# `store/named_times.py`): chosen by leave-one-out on the LoCoMo
# development conversations (docs/recall.md).
TIME_WEIGHT = Range(default=0.3, low=0.0, high=10.0)
NEIGHBOR_DECAY = 0.7
NEIGHBOR_SPAN = 2
# The Redis time a keyword search may take (ms, `FT.SEARCH ... TIMEOUT`):
# it scores every memory of the scope that holds a word, so its cost grows
# with the scope (50,000 memories in one namespace: p50 5 ms, at most
# 14 ms for LoCoMo questions); past this it returns the best of the
# memories scored so far, and Redis serves the other clients.
KEYWORD_SEARCH_TIMEOUT_MS = 20
# Matches one search returns by default (the most is `--max-search-limit`).
DEFAULT_SEARCH_LIMIT = 10
# `ListMemories.page_size`.
MEMORY_PAGE_SIZE = Range(default=50, low=1, high=1000)

# Access tracking (`access_recorder.py`): how often the searches recorded
# in a process are written to their memories. Each memory written is
# indexed again by Redis Search as a whole, its vector too: about 0.65 ms
# of Redis time (`python -m bench.access_tracking`), so one script call
# writes at most `ACCESS_FLUSH_BATCH` memories (~2.6 ms, during which every
# other client waits), and the background writes rest after each call so
# that they take at most `ACCESS_FLUSH_SHARE` of the time. At most
# `ACCESS_MAX_PENDING` memories wait at once (about 200 bytes each:
# ~10 MiB); beyond it a search's new ones are dropped (and counted).
ACCESS_FLUSH_S = 1.0
ACCESS_FLUSH_BATCH = 4
ACCESS_FLUSH_SHARE = 0.5
ACCESS_MAX_PENDING = 50_000

# -- Event log ----------------------------------------------------------------
MAX_EVENT_TYPE_CHARS = 128
# An event's `data` or `json` payload, in bytes.
MAX_PAYLOAD_BYTES = 1024 * 1024
# How deep a `json` payload may nest, in protobuf message levels counting its
# Struct as 1: a JSON object costs three (Struct, FieldsEntry, Value), a list
# two (ListValue, Value), so `{"a": 1}` is 3 and 20 nested objects holding
# values are 60. The deepest response that carries an event
# (ReceiveEventsResponse, ReceivedEvent, Event, then the payload) is then
# 63 levels: the Python, Java, C++, C#, Rust and JS runtimes decode 100 by
# default (Go 10,000; older Ruby and Dart 64), which leaves room for a client
# that wraps events in messages of its own.
MAX_PAYLOAD_DEPTH = 60
# A `json` payload is stored as JSON text, and is at most 5.5 times larger
# encoded as protobuf: a list of one-digit numbers takes 2 bytes a value as
# JSON (`0,`) and 11 as protobuf (a 9-byte Value, its tag and its length).
# Its protobuf encoding is held to MAX_PAYLOAD_BYTES as well.
JSON_TO_PROTOBUF_GROWTH = 5.5
# Events a thread's log keeps (`AppendEvents.max_len`, `--event-log-max-len`).
MAX_LOG_LEN = 1_000_000
# `ListEvents.page_size`.
EVENT_PAGE_SIZE = Range(default=100, low=1, high=1000)
# Threads one `TailEvents` follows.
MAX_CURSORS = 100
# `TailEvents.heartbeat_interval`.
HEARTBEAT_S = Range(default=15.0, low=0.1, high=300.0)
# `ReceiveEvents.max_events`, `.wait` and `.redeliver_after`.
RECEIVE_EVENTS = Range(default=10, low=1, high=1000)
RECEIVE_WAIT_S = Range(default=0.0, low=0.0, high=30.0)
REDELIVER_AFTER_S = Range(default=60.0, low=0.1, high=86_400.0)
# Delivery ids one `AcknowledgeEvents` names.
MAX_DELIVERY_IDS = 1000
# How long a request id (AppendEvents, AppendTurns, CreateMemories) is
# remembered.
REQUEST_ID_TTL_HOURS = 24
# Events one read of a tail takes from a thread's log at most: the least
# `--tail-max-lag-events` can be.
TAIL_BATCH = 100

# -- Background jobs (memrpc/jobs/) ----------------------------------------------
# Feed entries one read of a job's group takes from each feed, at most.
JOB_READ_COUNT = 100
# How long one read of a job's group waits for a new entry: a stopping
# runner notices within it.
JOB_BLOCK_S = 1.0
# On a Redis Cluster, the reads of slots' feeds one runner has in flight at
# once, at most: each waiting one on a connection of its own
# (`jobs/feed_reads.py`); past this many slots the reads do not wait.
JOB_FEED_READS = 32
# How many times a `CLIENT UNBLOCK` ending a runner's read is sent, at most,
# while the read has not ended (it may reach Redis before the read).
JOB_UNBLOCK_TRIES = 3
# How often a runner reads the set of namespaces again, to find new feeds.
JOB_NAMESPACES_REFRESH_S = 2.0
# Overdue entries one claim pass takes from each feed, at most.
JOB_CLAIM_COUNT = 100
# Threads of one batch whose jobs run at the same time, at most.
JOB_CONCURRENCY = 8
# About how many dead letters each namespace keeps (`MAXLEN ~`).
JOB_DEAD_MAX_LEN = 10_000
# How often a runner samples its groups' lag and pending entries (metrics,
# health, the log line).
JOB_SAMPLE_S = 5.0
# The delays after a failed runner step (Redis unreachable...): the first,
# doubled up to the last.
JOB_BACKOFF_FIRST_S = 0.1
JOB_BACKOFF_LAST_S = 5.0
# How often a periodic job's runner (`jobs/periodic.py`) looks for the
# namespaces whose job is due; a stopping runner notices within it too.
PERIODIC_TICK_S = 5.0
# The lease a runner keeps after a run that left work: shorter than a tick,
# so that the next tick (of any runner) runs the job again.
PERIODIC_AGAIN_S = 1.0
# The delay before a failed run is tried again: the first, doubled after
# each failure in a row, up to the job's interval.
PERIODIC_RETRY_FIRST_S = 10.0
# One run of the migration job (`jobs/migration.py`): steps of
# `MIGRATION_BATCH` memories until this long has passed, or this many steps.
MIGRATION_RUN_S = 0.5
MIGRATION_RUN_STEPS = 1000
# The migration's lease while a run goes: a runner that dies holding it
# keeps every other one waiting this long at most.
MIGRATION_LEASE_S = 30.0
# How often a migration runner logs its progress, at most.
MIGRATION_LOG_S = 10.0
# One run of the re-embed job (`jobs/reembed.py`) over a namespace: steps of
# `REEMBED_BATCH` memories until this long has passed, or this many steps;
# its lease of the namespace while the run goes.
REEMBED_RUN_S = 1.0
REEMBED_RUN_STEPS = 1000
REEMBED_LEASE_S = 30.0
# How long a process uses what it read of a namespace's move (whether it
# has switched to the new model) and of the move's end, before it reads
# them again.
REEMBED_SWITCH_CACHE_S = 2.0
# How long after a move ended the old model's vectors are removed: far
# longer than `REEMBED_SWITCH_CACHE_S`, so that no process searches them by
# then.
REEMBED_CLEANUP_DELAY_S = 60.0
# How long after a namespace switched to the new model the re-embed job
# checks once more that none of its memories lacks the new vector, before
# it counts the namespace done: longer than `REEMBED_SWITCH_CACHE_S` plus a
# write's embedding, so that a process that had not yet read of the move
# (and wrote a memory with the old model's vector alone) has written by
# then.
REEMBED_SETTLE_S = 10.0
# Texts one batch of the embedder's background lane (the jobs' texts,
# `embedding/batcher.py`) holds at most: an interactive text that comes while
# such a batch runs waits for it alone, about 40 ms, where a batch of 64
# takes about 330 ms. The model is as fast per text in batches of 8 as of 64
# (5.1 ms a text both, one thread of the development machine; 6.8 ms alone).
EMBED_BACKGROUND_BATCH = 8
# Fold steps (of at most `FOLD_MAX_TURNS` turns each) one run of the summary
# job makes, at most: a thread's backlog beyond that is folded by the next
# delivery of its entries.
FOLD_MAX_STEPS = 50

# -- Redis at start (`--redis-start-timeout`, memrpc/embedded_redis.py) ----------
# How long a server waits at start for Redis to answer, unless configured:
# the setting's default, and the embedded Redis's own.
REDIS_START_TIMEOUT_S = 60.0

# -- Acknowledged writes (`--durability`, store/replica_ack.py) ----------------
# When a write is acknowledged: `local` once the primary applied it,
# `replica` once a replica holds it too (`WAIT`).
DURABILITIES = ("local", "replica")
# The replicas that must confirm a write with `--durability replica`.
DURABILITY_REPLICAS = 1
# How long a write waits for them unless configured (`--durability-timeout`):
# a replica acknowledges within a ms or so, but now and then only at its
# once-a-second report (seen on both servers, bench/durability.py).
DURABILITY_TIMEOUT_S = 2.0
# An embedded Redis still loading its data when that time is up, whose load
# advanced meanwhile, is given the same time again, up to this many times in
# all (3: 180 s by default, ~100,000 memories): its load is progress that a
# kill and a restart would throw away.
REDIS_LOADING_WINDOWS = 3

# -- Redis Cluster client (store/cluster_mux.py) --------------------------------
# The least time between two reads of the slot map: a refresh asked for
# sooner (a MOVED, a node lost) waits until then, so a failing primary is
# not asked once per failed command; its promoted replica is found at most
# this late after the promotion.
CLUSTER_REFRESH_MIN_S = 0.25

# -- Responses --------------------------------------------------------------------
# What a gRPC client accepts in one message unless told otherwise: the default
# receive limit of every gRPC runtime. Every response fits in it, so that a
# client with no options reads back whatever was accepted.
CLIENT_RECEIVE_BYTES = 4 * 1024 * 1024
# The most the items of one page hold (ListEvents, ListSessions,
# ListMemories, SearchMemories), unless its one item is larger: a page of large items has
# fewer than its page size. A quarter of what a client accepts is left for
# the response's other fields.
MAX_PAGE_BYTES = CLIENT_RECEIVE_BYTES * 3 // 4
# The most one event takes as protobuf: its payload, attributes (256 KiB by
# default), and 2 KiB for its type, ids and time.
MAX_EVENT_BYTES = MAX_PAYLOAD_BYTES + 256 * 1024 + 2048
# ReceiveEvents stops taking events once their stored fields hold this much
# (325 KiB), and still delivers the event that crosses it: the events
# before it take at most 5.5 times as much as protobuf, that one at most
# MAX_EVENT_BYTES, together within MAX_PAGE_BYTES.
MAX_RECEIVE_BYTES = int((MAX_PAGE_BYTES - MAX_EVENT_BYTES) / JSON_TO_PROTOBUF_GROWTH) // 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may hold, how many tails may be open and for how
    long: the settings of the same names (`memrpc.config.Settings` declares each, with
    its default and range, and `Settings.validate()` checks them)."""

    max_message_bytes: int
    max_batch_items: int
    max_text_chars: int
    max_metadata_bytes: int
    max_search_limit: int
    max_tails_per_caller: int
    max_tails: int
    tail_max_lag_events: int
    # Seconds; 0: tails are not ended for their age.
    max_tail_lifetime: float

    @property
    def max_window_bytes(self) -> int:
        """The byte budget of a session's window (`window_bytes`)."""
        return window_bytes(self.max_metadata_bytes)

    @property
    def formation_max_chars(self) -> Range:
        """`FORMATION_MAX_CHARS`, within what a memory's text may hold
        (`max_text_chars`)."""
        most = self.max_text_chars
        limit = FORMATION_MAX_CHARS
        return Range(
            default=min(limit.default, most), low=min(limit.low, most), high=min(limit.high, most)
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the settings set (a field of each name)."""
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


# -- Checkpoints (`Checkpoints`) ---------------------------------------------------
# Checkpoint ids (and parent ids): [A-Za-z0-9._-], such as a UUID.
MAX_CHECKPOINT_ID_CHARS = 64
# Checkpoint namespaces (a subgraph's path in its thread): printable, empty
# for the root.
MAX_CHECKPOINT_NS_CHARS = 512
# A serialized value's `encoding` label.
MAX_ENCODING_CHARS = 64
# A pending write's channel name, and its task's path.
MAX_CHANNEL_CHARS = 256
MAX_TASK_PATH_CHARS = 1024
# A checkpoint's serialized state; the values of one PutCheckpointWrites, in all.
MAX_CHECKPOINT_BYTES = 3 * 1024 * 1024
# A checkpoint's metadata (a JSON object).
MAX_CHECKPOINT_METADATA_BYTES = 64 * 1024
# Writes of one PutCheckpointWrites; threads of one PruneCheckpoints; runs of
# one DeleteCheckpointRuns.
MAX_CHECKPOINT_BATCH = 1000
# `ListCheckpoints.page_size`.
CHECKPOINT_PAGE_SIZE = Range(default=50, low=1, high=1000)
# The most checkpoints one ListCheckpoints call examines beyond its page size
# (those its metadata filter leaves out): the bound on its Redis time.
CHECKPOINT_LIST_SCAN_BUDGET = 500
# Checkpoints a filtered ListCheckpoints reads per step beyond what its page
# lacks.
CHECKPOINT_FILTERED_READ = 32


# -- Administration (`Administration`, `Portability`) -----------------------------
# Audit records each namespace's audit log keeps, at least (trimmed beyond,
# oldest first, in whole stream nodes: `XADD MAXLEN ~`).
AUDIT_MAX_RECORDS = 100_000
# `ListAuditRecords.page_size`.
AUDIT_PAGE_SIZE = Range(default=100, low=1, high=1000)
# The most characters of one audit record's details (JSON): longer details
# are cut, and say so (`store/audit_log.py`).
AUDIT_MAX_DETAILS_CHARS = 8192
# Keys one step of an erasure or a namespace deletion reads or deletes, at
# most: the work between two checks of the call's deadline.
ERASURE_STEP_KEYS = 500
