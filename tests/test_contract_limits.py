"""Every limit the proto comments, the docs or the Lua scripts state is the
value `memrpc.limits` (fixed limits) or `memrpc.config` (the defaults of the
configurable ones) holds: each phrase below is built from the constant and
must appear in the comment of its proto element, or in its doc or script.

The proto is read from its source (no protoc): a comment is the run of `//`
lines right above a declaration, keyed by the declaration's dotted name
(`AppendEventsRequest.max_len`, `EventLog.TailEvents`); the file's header
comment is keyed by the file name.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from memrpc import limits as lim
from memrpc.config import Settings
from memrpc.docgen import number, seconds, size

ROOT = Path(__file__).resolve().parents[1]
PROTO = ROOT / "proto/memrpc/v1"
DEFAULTS = Settings()
CONFIGURABLE = "(server-configurable)"
TIMES = "\N{MULTIPLICATION SIGN}"

_SCOPE = re.compile(r"(message|service|enum|oneof)\s+(\w+)\s*\{")
_NAMED = re.compile(
    r"(?:rpc\s+(\w+)\s*\()"  # an rpc
    r"|(?:(?:optional\s+|repeated\s+)?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+)"  # a field
    r"|(?:(\w+)\s*=\s*\d+\s*;)"  # an enum value
)


def proto_comments() -> dict[str, str]:
    """The leading comment of every declaration of the proto files, one
    line of text each."""
    comments: dict[str, str] = {}
    for path in sorted(PROTO.glob("*.proto")):
        scopes: list[str | None] = []
        pending: list[str] = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if line.startswith("//"):
                pending.append(line.removeprefix("//").strip())
                continue
            names = [s for s in scopes if s]
            key = None
            if line.startswith("syntax"):
                key = path.name
            elif scope := _SCOPE.match(line):
                key = ".".join([*names, scope[2]])
                scopes.append(None if scope[1] == "oneof" else scope[2])
            elif named := _NAMED.match(line):
                key = ".".join([*names, next(n for n in named.groups() if n)])
            if key is not None and pending:
                comments[key] = " ".join(pending)
            for _ in range(line.count("}")):  # `message Empty {}` opens and closes
                scopes.pop()
            pending = []
    return comments


def metadata_rule(configurable: bool = True) -> str:
    return (
        f"At most {lim.MAX_METADATA_ENTRIES} entries; keys 1 to {lim.MAX_METADATA_KEY_CHARS} "
        f"characters, values at most {number(lim.MAX_METADATA_VALUE_CHARS)}; by default at "
        f"most {size(DEFAULTS.max_metadata_bytes)} of UTF-8 in all {CONFIGURABLE}"
    )


TEXT = f"1 to {number(DEFAULTS.max_text_chars)} characters by default {CONFIGURABLE}"
SESSION_TTL = (
    f"Default {seconds(lim.SESSION_TTL_S.default)}; {seconds(lim.SESSION_TTL_S.low)} to "
    f"{seconds(lim.SESSION_TTL_S.high)}"
)
DEDUP = (
    f"Default {number(lim.DEDUP_DISTANCE.default)}; {number(lim.DEDUP_DISTANCE.low)} to "
    f"{number(lim.DEDUP_DISTANCE.high)}"
)
PAYLOAD = f"at most {size(lim.MAX_PAYLOAD_BYTES)}"
TOPICS = f"At most {lim.MAX_TOPICS}, each 1 to {lim.MAX_TOPIC_CHARS} characters"

# (proto element, phrase its comment states)
PROTO_LIMITS: list[tuple[str, str]] = [
    # Identifiers
    ("working_memory.proto", f"1 to {lim.MAX_NAMESPACE_CHARS} characters from"),
    ("working_memory.proto", f"1 to {lim.MAX_ID_CHARS} printable Unicode characters"),
    ("event_log.proto", f"consumer names are 1 to {lim.MAX_NAME_CHARS} characters"),
    (
        "long_term_memory.proto",
        f"at most {lim.MAX_TOPIC_CHARS} characters each and {lim.MAX_TOPICS} per memory",
    ),
    # Working memory
    ("TurnInput.role", f"1 to {lim.MAX_ROLE_CHARS} printable characters"),
    ("TurnInput.content", f"At most {number(lim.MAX_CONTENT_CHARS)} characters"),
    ("TurnInput.metadata", "keys 1 to 128 characters, values at most 4,096; by default at most"),
    ("TurnInput.metadata", f"{size(DEFAULTS.max_metadata_bytes)} of UTF-8 in all {CONFIGURABLE}"),
    ("SessionInput.goal", f"At most {number(lim.MAX_GOAL_CHARS)} characters"),
    ("SessionInput.scratchpad", f"At most {number(lim.MAX_SCRATCHPAD_CHARS)} characters"),
    ("SessionInput.metadata", metadata_rule()),
    ("UpdateSessionRequest.ttl", SESSION_TTL),
    ("AppendTurnsRequest.ttl", SESSION_TTL),
    (
        "AppendTurnsRequest.turns",
        f"1 to {number(DEFAULTS.max_batch_items)} turns by default {CONFIGURABLE}",
    ),
    (
        "AppendTurnsRequest.max_window_turns",
        f"Default {number(lim.WINDOW_TURNS.default)}; {number(lim.WINDOW_TURNS.low)} to "
        f"{number(lim.WINDOW_TURNS.high)}",
    ),
    (
        "Session.turns",
        f"at most {number(lim.window_bytes(DEFAULTS.max_metadata_bytes))} bytes of them "
        f"({size(lim.window_bytes(DEFAULTS.max_metadata_bytes))}",
    ),
    ("Session.turns", f"fits in the {size(lim.CLIENT_RECEIVE_BYTES)} a gRPC client receives"),
    (
        "ListSessionsRequest.page_size",
        f"Default {number(lim.SESSION_PAGE_SIZE.default)}; at most "
        f"{number(lim.SESSION_PAGE_SIZE.high)}",
    ),
    ("ListSessionsRequest.page_size", f"take more than {size(lim.MAX_PAGE_BYTES)}"),
    (
        "WorkingMemory.AppendTurns",
        f"({number(DEFAULTS.event_log_max_len)} unless configured)",
    ),
    # Long-term memory
    ("MemoryKind.MEMORY_KIND_EPISODIC", f"by default after {seconds(lim.EPISODIC_TTL_S)}"),
    ("MemoryInput.text", TEXT),
    ("MemoryInput.topics", TOPICS),
    ("MemoryInput.metadata", metadata_rule()),
    (
        "MemoryInput.ttl",
        f"Default: {seconds(lim.EPISODIC_TTL_S)} for episodic memories, for ever for semantic "
        f"ones. {seconds(lim.MEMORY_TTL_S.low)} to {seconds(lim.MEMORY_TTL_S.high)}",
    ),
    (
        "CreateMemoriesRequest.memories",
        f"1 to {number(DEFAULTS.max_batch_items)} by default {CONFIGURABLE}",
    ),
    ("CreateMemoriesRequest.dedup_max_distance", DEDUP),
    ("UpdateMemoryRequest.dedup_max_distance", f"Default {number(lim.DEDUP_DISTANCE.default)}."),
    ("MemoryFilter", f"holds at most {lim.MAX_FILTER_VALUES} values"),
    (
        "ListMemoriesRequest.page_size",
        f"Default {number(lim.MEMORY_PAGE_SIZE.default)}; at most "
        f"{number(lim.MEMORY_PAGE_SIZE.high)}",
    ),
    ("ListMemoriesRequest.page_size", f"take more than {size(lim.MAX_PAGE_BYTES)}"),
    ("ListMemoriesRequest.page_size", f"default {size(lim.CLIENT_RECEIVE_BYTES)} receive limit"),
    ("SearchMemoriesRequest.text", TEXT),
    (
        "SearchMemoriesRequest.limit",
        f"Default {lim.DEFAULT_SEARCH_LIMIT}; 1 to {number(DEFAULTS.max_search_limit)} by "
        f"default {CONFIGURABLE}",
    ),
    ("SearchMemoriesRequest.limit", f"would not fit in {size(lim.MAX_PAGE_BYTES)}"),
    ("SearchMemoriesResponse.matches", f"take more than {size(lim.MAX_PAGE_BYTES)}"),
    (
        "SearchMemoriesRequest.max_distance",
        f"Default {number(lim.SEARCH_DISTANCE.default)},",
    ),
    (
        "SearchMemoriesRequest.max_distance",
        f"{number(lim.SEARCH_DISTANCE.low)} to {number(lim.SEARCH_DISTANCE.high)}.",
    ),
    ("GetContextRequest.text", TEXT),
    (
        "GetContextRequest.limit",
        f"Default {lim.DEFAULT_SEARCH_LIMIT}; 1 to {number(DEFAULTS.max_search_limit)} by "
        f"default {CONFIGURABLE}",
    ),
    (
        "GetContextRequest.max_distance",
        f"Default {number(lim.SEARCH_DISTANCE.default)}; {number(lim.SEARCH_DISTANCE.low)} "
        f"to {number(lim.SEARCH_DISTANCE.high)}.",
    ),
    ("GetContextResponse.matches", f"what the session leaves of {size(lim.MAX_PAGE_BYTES)}"),
    (
        "SearchMemoriesRequest.keyword_weight",
        f"else {number(lim.KEYWORD_WEIGHT.default)}; {number(lim.KEYWORD_WEIGHT.low)} to "
        f"{number(lim.KEYWORD_WEIGHT.high)}.",
    ),
    (
        "SearchMemoriesRequest.neighbor_weight",
        f"else {number(lim.NEIGHBOR_WEIGHT.default)}; {number(lim.NEIGHBOR_WEIGHT.low)} to "
        f"{number(lim.NEIGHBOR_WEIGHT.high)}.",
    ),
    (
        "SearchMemoriesRequest.time_weight",
        f"else {number(lim.TIME_WEIGHT.default)}; {number(lim.TIME_WEIGHT.low)} to "
        f"{number(lim.TIME_WEIGHT.high)}.",
    ),
    (
        "RecallMode.RECALL_MODE_HYBRID",
        f"the {lim.HYBRID_CANDIDATES_PER_MATCH} {TIMES} `limit` memories nearest",
    ),
    (
        "RecallMode.RECALL_MODE_HYBRID",
        f"the {lim.HYBRID_CANDIDATES_PER_MATCH} {TIMES} `limit` best keyword matches",
    ),
    ("RecallMode.RECALL_MODE_HYBRID", f"and {number(lim.NEIGHBOR_DECAY)} {TIMES} that"),
    (
        "RecallMode.RECALL_MODE_KEYWORD",
        f"the {lim.HYBRID_CANDIDATES_PER_MATCH} {TIMES} `limit` candidates",
    ),
    # Namespace settings
    (
        "SessionDefaults.ttl",
        f"{seconds(lim.SESSION_TTL_S.low)} to {seconds(lim.SESSION_TTL_S.high)}.",
    ),
    (
        "SessionDefaults.max_window_turns",
        f"{number(lim.WINDOW_TURNS.low)} to {number(lim.WINDOW_TURNS.high)}.",
    ),
    (
        "SessionDefaults.max_window_bytes",
        f"{number(lim.MIN_NAMESPACE_WINDOW_BYTES)} up to the server's window budget",
    ),
    (
        "MemoryDefaults.dedup_max_distance",
        f"{number(lim.DEDUP_DISTANCE.low)} to {number(lim.DEDUP_DISTANCE.high)}.",
    ),
    (
        "MemoryDefaults.recall_max_distance",
        f"{number(lim.SEARCH_DISTANCE.low)} to {number(lim.SEARCH_DISTANCE.high)}.",
    ),
    (
        "MemoryDefaults.episodic_ttl",
        f"{seconds(lim.MEMORY_TTL_S.low)} to {seconds(lim.MEMORY_TTL_S.high)}.",
    ),
    (
        "SummaryPolicy.max_chars",
        f"Default {number(lim.SUMMARY_MAX_CHARS.default)}; {number(lim.SUMMARY_MAX_CHARS.low)} "
        f"to {number(lim.SUMMARY_MAX_CHARS.high)}.",
    ),
    (
        "SummaryPolicy.min_fold_turns",
        f"Default {number(lim.SUMMARY_MIN_FOLD_TURNS.default)}; "
        f"{number(lim.SUMMARY_MIN_FOLD_TURNS.low)} to {number(lim.SUMMARY_MIN_FOLD_TURNS.high)}.",
    ),
    ("FormationPolicy.extract_facts", f"at most {lim.LLM_MAX_FACTS} per memory formed"),
    # Event log
    ("Event.data", PAYLOAD),
    ("Event.json", f"{PAYLOAD} once encoded"),
    ("Event.json", f"nested at most {lim.MAX_PAYLOAD_DEPTH} protobuf message levels"),
    ("Event.attributes", metadata_rule()),
    ("EventInput.type", f"1 to {lim.MAX_EVENT_TYPE_CHARS} printable characters"),
    ("EventInput.data", PAYLOAD),
    ("EventInput.json", f"{PAYLOAD} once encoded"),
    ("EventInput.json", f"nests at most {lim.MAX_PAYLOAD_DEPTH} protobuf message levels"),
    ("EventInput.attributes", metadata_rule()),
    (
        "AppendEventsRequest.events",
        f"1 to {number(DEFAULTS.max_batch_items)} events by default {CONFIGURABLE}",
    ),
    (
        "AppendEventsRequest.max_len",
        f"1 to {number(lim.MAX_LOG_LEN)}; by default {number(DEFAULTS.event_log_max_len)} "
        f"{CONFIGURABLE}",
    ),
    ("AppendEventsRequest.request_id", f"1 to {lim.MAX_REQUEST_ID_CHARS} characters"),
    ("AppendEventsRequest.request_id", f"For {lim.REQUEST_ID_TTL_HOURS} hours"),
    (
        "ListEventsRequest.page_size",
        f"Default {number(lim.EVENT_PAGE_SIZE.default)}; at most "
        f"{number(lim.EVENT_PAGE_SIZE.high)}",
    ),
    ("ListEventsRequest.page_size", f"take more than {size(lim.MAX_PAGE_BYTES)}"),
    ("ListEventsRequest.page_size", f"default {size(lim.CLIENT_RECEIVE_BYTES)} receive limit"),
    ("TailEventsRequest.cursors", f"1 to {lim.MAX_CURSORS} threads"),
    (
        "TailEventsRequest.heartbeat_interval",
        f"{seconds(lim.HEARTBEAT_S.default)}; {seconds(lim.HEARTBEAT_S.low)} to "
        f"{seconds(lim.HEARTBEAT_S.high)}",
    ),
    ("EventLog.TailEvents", f"(by default {number(DEFAULTS.tail_max_lag_events)})"),
    (
        "ReceiveEventsRequest.max_events",
        f"Default {number(lim.RECEIVE_EVENTS.default)}; {number(lim.RECEIVE_EVENTS.low)} to "
        f"{number(lim.RECEIVE_EVENTS.high)}",
    ),
    ("ReceiveEventsRequest.max_events", f"hold {size(lim.MAX_RECEIVE_BYTES)} as stored"),
    ("ReceiveEventsRequest.max_events", f"{number(lim.JSON_TO_PROTOBUF_GROWTH)} times"),
    ("ReceiveEventsRequest.wait", f"at most {seconds(lim.RECEIVE_WAIT_S.high)}"),
    (
        "ReceiveEventsRequest.redeliver_after",
        f"Default {seconds(lim.REDELIVER_AFTER_S.default)}; "
        f"{seconds(lim.REDELIVER_AFTER_S.low)} to {seconds(lim.REDELIVER_AFTER_S.high)}",
    ),
    ("AcknowledgeEventsRequest.delivery_ids", f"1 to {number(lim.MAX_DELIVERY_IDS)}"),
    # Checkpoints
    ("SerializedValue.encoding", f"1 to {lim.MAX_ENCODING_CHARS} printable characters"),
    ("CheckpointWrite.task_id", f"1 to {lim.MAX_ID_CHARS} printable characters"),
    ("CheckpointWrite.channel", f"1 to {lim.MAX_CHANNEL_CHARS} printable characters"),
    ("CheckpointWrite.task_path", f"at most {number(lim.MAX_TASK_PATH_CHARS)} printable"),
    ("PutCheckpointRequest.checkpoint_ns", f"at most {lim.MAX_CHECKPOINT_NS_CHARS} printable"),
    (
        "PutCheckpointRequest.checkpoint_id",
        f"1 to {lim.MAX_CHECKPOINT_ID_CHARS} characters of `[A-Za-z0-9._-]`",
    ),
    ("PutCheckpointRequest.run_id", f"at most {lim.MAX_ID_CHARS} printable characters"),
    ("PutCheckpointRequest.state", f"at most {size(lim.MAX_CHECKPOINT_BYTES)}"),
    ("PutCheckpointRequest.metadata", f"at most {size(lim.MAX_CHECKPOINT_METADATA_BYTES)}"),
    (
        "ListCheckpointsRequest.metadata_filter",
        f"At most {lim.MAX_METADATA_FILTERS} entries; keys 1 to {lim.MAX_METADATA_KEY_CHARS} "
        f"characters, values at most {number(lim.MAX_METADATA_VALUE_CHARS)}",
    ),
    (
        "ListCheckpointsRequest.page_size",
        f"Default {number(lim.CHECKPOINT_PAGE_SIZE.default)}; at most "
        f"{number(lim.CHECKPOINT_PAGE_SIZE.high)}",
    ),
    ("ListCheckpointsRequest.page_size", f"take more than {size(lim.MAX_PAGE_BYTES)}"),
    ("PutCheckpointWritesRequest.writes", f"1 to {number(lim.MAX_CHECKPOINT_BATCH)}"),
    ("PutCheckpointWritesRequest.writes", f"at most {size(lim.MAX_CHECKPOINT_BYTES)} in all"),
    ("PruneCheckpointsRequest.thread_ids", f"at most {number(lim.MAX_CHECKPOINT_BATCH)}"),
    ("DeleteCheckpointRunsRequest.run_ids", f"at most {number(lim.MAX_CHECKPOINT_BATCH)}"),
]

# (file, phrase its prose states) beyond the generated parts of docgen.
DOC_LIMITS: list[tuple[str, str]] = [
    ("docs/security.md", f"A namespace is 1 to {lim.MAX_NAMESPACE_CHARS} of"),
    ("docs/security.md", f"Thread ids (1 to {lim.MAX_ID_CHARS} printable characters"),
    ("docs/security.md", f"Consumer group and consumer names are 1 to {lim.MAX_NAME_CHARS}"),
    (
        "docs/security.md",
        f"default {seconds(lim.HEARTBEAT_S.default)}, {seconds(lim.HEARTBEAT_S.low)} to "
        f"{seconds(lim.HEARTBEAT_S.high)}",
    ),
    ("docs/security.md", f"{lim.MAX_CURSORS} threads per tail"),
    ("docs/security.md", f"may nest at most {lim.MAX_PAYLOAD_DEPTH} protobuf message levels"),
    ("docs/security.md", f"Responses are cut by bytes, within {size(lim.MAX_PAGE_BYTES)}"),
    ("docs/security.md", f"once its events hold {size(lim.MAX_RECEIVE_BYTES)} as stored"),
    (
        "docs/security.md",
        f"{number(lim.window_bytes(DEFAULTS.max_metadata_bytes))} bytes "
        f"({size(lim.window_bytes(DEFAULTS.max_metadata_bytes))}) of turns",
    ),
    ("docs/security.md", f"above {number(lim.MAX_METADATA_BYTES_SETTING)}"),
    ("docs/security.md", f"a turn of {number(lim.MAX_CONTENT_CHARS)} 4-byte characters"),
    ("docs/security.md", f"gRPC's default {size(lim.CLIENT_RECEIVE_BYTES)} receive limit"),
    ("docs/api.md", f"each once, the first {lim.MAX_KEYWORDS}, without common English words"),
    ("docs/api.md", f"at most {lim.KEYWORD_SEARCH_TIMEOUT_MS} ms of Redis time"),
    (
        "docs/api.md",
        f"The keyword search ({lim.HYBRID_CANDIDATES_PER_MATCH} {TIMES} `limit` candidates)",
    ),
    (
        "docs/api.md",
        f"`keyword_weight` {number(lim.KEYWORD_WEIGHT.default)}, `neighbor_weight` "
        f"{number(lim.NEIGHBOR_WEIGHT.default)}, `time_weight` {number(lim.TIME_WEIGHT.default)}",
    ),
    ("docs/api.md", f"k1 {number(lim.BM25_K1)}, b {number(lim.BM25_B)}"),
    ("docs/api.md", f"{number(lim.NEIGHBOR_DECAY)} {TIMES} that of"),
]


@pytest.fixture(scope="module")
def comments() -> dict[str, str]:
    return proto_comments()


@pytest.mark.parametrize(("element", "phrase"), PROTO_LIMITS)
def test_the_proto_states_each_limit_as_limits_py_holds_it(
    comments: dict[str, str], element: str, phrase: str
) -> None:
    assert element in comments, f"no comment on {element} in proto/"
    assert phrase in comments[element], f"{element}: {comments[element]!r}"


@pytest.mark.parametrize(("path", "phrase"), DOC_LIMITS)
def test_the_docs_state_each_limit_as_limits_py_holds_it(path: str, phrase: str) -> None:
    text = " ".join((ROOT / path).read_text().split())
    assert phrase in text, f"{path} does not say {phrase!r}"


def test_the_comment_reader_sees_every_kind_of_declaration(comments: dict[str, str]) -> None:
    assert "Session" in comments  # a message
    assert "EventLog.ReceiveEvents" in comments  # an rpc
    assert "EventInput.data" in comments  # a field in a oneof
    assert "MemoryKind.MEMORY_KIND_SEMANTIC" in comments  # an enum value
    assert "event_log.proto" in comments  # a file's header


def test_the_lua_session_ttl_maximum_is_the_session_ttl_limit() -> None:
    script = (ROOT / "service/memrpc/lua/lib/session.lua").read_text()
    found = re.search(r"^local MAX_TTL_MS = ([\d *]+)$", script, re.MULTILINE)
    assert found, "session.lua: no `local MAX_TTL_MS = ...`"
    assert math.prod(int(factor) for factor in found[1].split("*")) == lim.SESSION_TTL_S.high * 1000
