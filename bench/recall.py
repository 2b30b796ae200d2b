"""Recall quality of each search mode on the LoCoMo development conversations,
with each mode's search latency, in one run.

```sh
.venv/bin/python -m bench.recall                       # /work/shared/locomo-dev
.venv/bin/python -m bench.recall --data DIR --out FILE
```

The data (five LoCoMo conversations, one JSON file each) is not part of the
repository: without `--data` (default `MEMRPC_LOCOMO_DIR`, else
/work/shared/locomo-dev) the bench says so and exits 0. The protocol is the
data's README's: one namespace per conversation, each turn one memory
(`"<speaker>: <text>"`, plus `" [shares a photo: <caption>]"`; its `dia_id`
in metadata; its session's date as its `event_time`; never expiring;
write-time dedup off, and the namespace's consolidation and forgetting jobs
off, so that only exact repeats merge), created through
`CreateMemories`; then each question of categories 1 to 4 searched with
`SearchMemories` (its text, limit 10) in every mode, the modes taking
turns question by question. The embedded server runs without an embedding
cache (`--embed-cache-size 0`), so every text query is embedded by the
server in the call, as a new question would be: the latency is what a user
sees (a server at `--address` should run so too). recall@k: the share of a
question's evidence turns in the first k matches; hit@k: at least one of
them there; means over the questions, overall and per category. Latency:
the wall time of each `SearchMemories` call (gRPC on loopback), p50 and p99
per mode, and each mode's p50 over vector's.

Leave-one-out: every question is also searched in hybrid mode with each
combination of a keyword weight of `--weights`, a neighbour weight of
`--neighbor-weights` and a time weight of `--time-weights` (untimed); for
each conversation, the combination best on
the other four (mean recall@5 over their questions) is scored on it, and
the figure reported is the mean of the five held-out recall@5 (and the
held-out questions' scores pooled, overall and per category).

The agent step: each question is also asked, timed and taking turns, as
`GetContext` of a thread of the conversation's namespace (a session with
one turn pair, no user: its search spans the namespace) in the default
mode and in vector mode, and as `GetSession` then `SearchMemories` in the
default mode: what the default costs the step, and `GetContext` against
the two calls it replaces.

`--date-in-text` prefixes each memory's text with its session's date
(`"[8 May, 2023] "`): a bench-only way to measure what the date adds to what
the keyword index and the model see.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import grpc

from bench.report import machine_info
from bench.servers import add_target_arguments, given_or_embedded_memrpc, parse_with_target
from bench.stats import percentiles_ms
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import (
    long_term_memory_pb2_grpc,
    namespace_settings_pb2_grpc,
    working_memory_pb2_grpc,
)
from memrpc.v1 import namespace_settings_pb2 as nsp
from memrpc.v1 import working_memory_pb2 as wm

DEFAULT_DATA = Path(os.environ.get("MEMRPC_LOCOMO_DIR", "/work/shared/locomo-dev"))
MODES = {
    "vector": ltm.RECALL_MODE_VECTOR,
    "keyword": ltm.RECALL_MODE_KEYWORD,
    "hybrid": ltm.RECALL_MODE_HYBRID,
}
LIMIT = 10
KS = (1, 5, 10)
# The thread each conversation's agent-step calls read.
THREAD = "agent"
# The agent-step calls timed per question, taking turns.
STEP_CALLS = ("GetContext", "GetContext vector", "GetSession+SearchMemories")
# Memories per CreateMemories call (the server's default batch limit is 100).
CREATE_CALL = 100
CALL_TIMEOUT_S = 60.0
# The keyword, neighbour and time weights the leave-one-out chooses among.
WEIGHTS = (0.3, 0.5, 0.7)
NEIGHBOR_WEIGHTS = (0.0, 0.2, 0.3)
TIME_WEIGHTS = (0.0, 0.3)
# The embedded server's flags: no embedding cache, so each text is embedded in its call.
UNCACHED = ("--embed-cache-size", "0")


class Turn(NamedTuple):
    """A turn as the protocol stores it: its dia_id, memory text and the
    time of its session (None when the data gives none)."""

    dia_id: str
    text: str
    when: datetime | None


def session_time(text: str) -> datetime | None:
    """A session's date and time (`"1:56 pm on 8 May, 2023"`), as UTC."""
    try:
        return datetime.strptime(text, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


def turns(conversation: dict[str, Any], *, dated: bool = False) -> list[Turn]:
    """Each turn of a conversation, in order; with `dated`, the text begins
    with its session's date (`"[8 May, 2023] "`)."""
    found = []
    for key, value in conversation.items():
        if key.startswith("session_") and isinstance(value, list):
            when = conversation.get(f"{key}_date_time", "")
            prefix = f"[{when.split(' on ')[-1]}] " if dated and when else ""
            for turn in value:
                text = f"{prefix}{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shares a photo: {turn['blip_caption']}]"
                found.append(Turn(turn["dia_id"], text, session_time(when)))
    return found


def conversations_in(data: Path) -> dict[str, dict[str, Any]]:
    """The conversations of the directory `data` by namespace (none when it
    holds none)."""
    files = sorted(data.glob("conv-*.json")) if data.is_dir() else []
    return {f"locomo-{f.stem}": json.loads(f.read_text()) for f in files}


def questions(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions with evidence (categories 1 to 4, evidence named)."""
    return [
        qa for qa in conversation["qa"] if qa.get("category") in (1, 2, 3, 4) and qa["evidence"]
    ]


# The namespace settings of a conversation: no job merges or forgets its memories.
KEPT_AS_WRITTEN = nsp.NamespaceSettings(
    consolidation=nsp.ConsolidationPolicy(enabled=False),
    forgetting=nsp.ForgettingPolicy(enabled=False),
)


async def load(
    channel: grpc.aio.Channel, ns: str, conversation: dict[str, Any], *, dated: bool
) -> int:
    """Creates a conversation's turns as memories (`turns`) in `ns`, with
    the settings `KEPT_AS_WRITTEN`; returns how many."""
    settings = nsp.UpdateNamespaceSettingsRequest(namespace=ns, settings=KEPT_AS_WRITTEN)
    await namespace_settings_pb2_grpc.NamespacesStub(channel).UpdateNamespaceSettings(
        settings, timeout=CALL_TIMEOUT_S
    )
    stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    opening = wm.TurnInput(role="user", content="Let us talk.")
    await working_memory_pb2_grpc.WorkingMemoryStub(channel).AppendTurns(
        wm.AppendTurnsRequest(namespace=ns, thread_id=THREAD, turns=[opening]),
        timeout=CALL_TIMEOUT_S,
    )
    items = []
    for turn in turns(conversation, dated=dated):
        item = ltm.MemoryInput(text=turn.text, metadata={"dia_id": turn.dia_id})
        if turn.when is not None:
            item.event_time.FromDatetime(turn.when)
        items.append(item)
    for first in range(0, len(items), CREATE_CALL):
        request = ltm.CreateMemoriesRequest(
            namespace=ns, memories=items[first : first + CREATE_CALL], dedup_max_distance=0.0
        )
        await stub.CreateMemories(request, timeout=CALL_TIMEOUT_S)
    return len(items)


def scores(found: Sequence[str], evidence: Sequence[str]) -> dict[str, float]:
    """recall@k and hit@k of one question's matches (their dia_ids, best first)."""
    wanted = set(evidence)
    result = {}
    for k in KS:
        top = set(found[:k]) & wanted
        result[f"recall@{k}"] = len(top) / len(wanted)
        result[f"hit@{k}"] = float(bool(top))
    return result


def means(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: sum(row[key] for row in rows) / len(rows) for key in rows[0]} if rows else {}


async def step(working: Any, stub: Any, ns: str, qa: dict[str, Any], call: str) -> None:
    """One of the `STEP_CALLS` for a question (`working`: a WorkingMemory
    stub, `stub`: a LongTermMemory one, made outside the timing)."""
    text, limit = qa["question"], LIMIT
    if call == "GetSession+SearchMemories":
        await working.GetSession(wm.GetSessionRequest(namespace=ns, thread_id=THREAD))
        search = ltm.SearchMemoriesRequest(namespace=ns, text=text, limit=limit)
        await stub.SearchMemories(search)
        return
    vector = call == "GetContext vector"
    mode = ltm.RECALL_MODE_VECTOR if vector else ltm.RECALL_MODE_UNSPECIFIED
    context = wm.GetContextRequest(
        namespace=ns, thread_id=THREAD, text=text, limit=limit, mode=mode
    )
    await working.GetContext(context, timeout=CALL_TIMEOUT_S)


async def search(stub: Any, ns: str, qa: dict[str, Any], **fields: Any) -> dict[str, float]:
    """The scores (`scores`) of one question searched with `fields`."""
    request = ltm.SearchMemoriesRequest(namespace=ns, text=qa["question"], limit=LIMIT, **fields)
    reply = await stub.SearchMemories(request, timeout=CALL_TIMEOUT_S)
    return scores([match.memory.metadata["dia_id"] for match in reply.matches], qa["evidence"])


def summary(rows: Sequence[tuple[int, dict[str, float]]]) -> dict[str, Any]:
    """Means of (category, scores) rows, overall and per category."""
    return {
        "overall": means([s for _, s in rows]),
        "by_category": {str(c): means([s for cat, s in rows if cat == c]) for c in (1, 2, 3, 4)},
    }


# Hybrid weights: keyword, neighbour, time.
Weights = tuple[float, float, float]
# Per pair of weights, per conversation: the (category, scores) of each question.
Grid = dict[Weights, dict[str, list[tuple[int, dict[str, float]]]]]


async def measure(
    channel: grpc.aio.Channel,
    conversations: dict[str, dict[str, Any]],
    weights: Sequence[Weights],
    *,
    dated: bool,
) -> dict[str, Any]:
    """Loads every conversation, then searches every question in every mode
    (timed), and in hybrid mode with each of `weights` (untimed)."""
    loaded = {ns: await load(channel, ns, conv, dated=dated) for ns, conv in conversations.items()}
    stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    working = working_memory_pb2_grpc.WorkingMemoryStub(channel)
    rows: dict[str, list[tuple[int, dict[str, float]]]] = {mode: [] for mode in MODES}
    latency: dict[str, list[float]] = {mode: [] for mode in MODES}
    grid: Grid = {w: {ns: [] for ns in conversations} for w in weights}
    steps: dict[str, list[float]] = {call: [] for call in STEP_CALLS}
    for ns, conversation in conversations.items():
        for n, qa in enumerate(questions(conversation)):
            order = list(MODES.items())
            order = order[n % len(order) :] + order[: n % len(order)]  # take turns
            for name, mode in order:
                began = time.perf_counter()
                found = await search(stub, ns, qa, mode=mode)
                latency[name].append(time.perf_counter() - began)
                rows[name].append((qa["category"], found))
            for call in STEP_CALLS[n % 3 :] + STEP_CALLS[: n % 3]:
                began = time.perf_counter()
                await step(working, stub, ns, qa, call)
                steps[call].append(time.perf_counter() - began)
            for keyword, neighbor, when in weights:
                found = await search(
                    stub,
                    ns,
                    qa,
                    mode=ltm.RECALL_MODE_HYBRID,
                    keyword_weight=keyword,
                    neighbor_weight=neighbor,
                    time_weight=when,
                )
                grid[keyword, neighbor, when][ns].append((qa["category"], found))
    vector_p50 = percentiles_ms(latency["vector"])["p50_ms"]
    report: dict[str, Any] = {"memories": loaded, "questions": len(rows["vector"])}
    report["date_in_text"] = dated
    for name in MODES:
        lat = percentiles_ms(latency[name])
        lat["p50_over_vector"] = lat["p50_ms"] / vector_p50
        report[name] = {**summary(rows[name]), "latency": lat}
    context_p50 = percentiles_ms(steps["GetContext"])["p50_ms"]
    report["agent_step"] = {}
    for call, took in steps.items():
        lat = percentiles_ms(took)
        lat["p50_over_get_context"] = lat["p50_ms"] / context_p50
        report["agent_step"][call] = lat
    if weights:
        report["leave_one_out"] = leave_one_out(grid)
    return report


def leave_one_out(grid: Grid) -> dict[str, Any]:
    """For each conversation, the weights whose mean recall@5 over the other
    conversations' questions is best, and its scores on this one: the mean
    of the held-out recall@5 (`recall@5`), each fold's, and the held-out
    questions pooled (`held_out`)."""
    conversations = list(next(iter(grid.values())))
    folds, pooled = {}, []
    for held in conversations:

        def tuned(weights: Weights, held: str = held) -> float:
            rows = [s for ns, r in grid[weights].items() if ns != held for _, s in r]
            return means(rows)["recall@5"]

        best = max(grid, key=tuned)
        folds[held] = {
            "keyword_weight": best[0],
            "neighbor_weight": best[1],
            "time_weight": best[2],
            "recall@5": means([s for _, s in grid[best][held]])["recall@5"],
        }
        pooled += grid[best][held]
    return {
        "recall@5": sum(f["recall@5"] for f in folds.values()) / len(folds),
        "folds": folds,
        "held_out": summary(pooled),
        "by_weights": {
            "/".join(map(str, weights)): means([s for r in by_ns.values() for _, s in r])
            for weights, by_ns in grid.items()
        },
    }


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    parser.add_argument(
        "--weights",
        default=",".join(map(str, WEIGHTS)),
        help="hybrid keyword weights for the leave-one-out, comma-separated ('' for none)",
    )
    parser.add_argument(
        "--neighbor-weights",
        default=",".join(map(str, NEIGHBOR_WEIGHTS)),
        help="hybrid neighbour weights for the leave-one-out, comma-separated",
    )
    parser.add_argument(
        "--time-weights",
        default=",".join(map(str, TIME_WEIGHTS)),
        help="hybrid time weights for the leave-one-out, comma-separated",
    )
    parser.add_argument(
        "--date-in-text", action="store_true", help="begin each memory's text with its date"
    )
    add_target_arguments(parser)
    args = parse_with_target(parser, argv)
    conversations = conversations_in(args.data)
    if not conversations:
        print(f"no LoCoMo conversations in {args.data}: skipped", file=sys.stderr)
        return 0
    async with (
        given_or_embedded_memrpc(args.address, args.redis_url, extra_args=UNCACHED) as target,
        grpc.aio.insecure_channel(target.address) as channel,
    ):
        keyword, neighbor, when = (
            [float(w) for w in given.split(",") if w]
            for given in (args.weights, args.neighbor_weights, args.time_weights)
        )
        weights = list(itertools.product(keyword, neighbor, when))
        report = await measure(channel, conversations, weights, dated=args.date_in_text)
    report["machine"] = machine_info()
    for name in MODES:
        overall, lat = report[name]["overall"], report[name]["latency"]
        print(
            f"{name:8} recall@1 {overall['recall@1']:.3f} recall@5 {overall['recall@5']:.3f} "
            f"recall@10 {overall['recall@10']:.3f} hit@5 {overall['hit@5']:.3f}  "
            f"search p50 {lat['p50_ms']:.2f} ms ({lat['p50_over_vector']:.2f}x vector) "
            f"p99 {lat['p99_ms']:.2f} ms"
        )
    for call, lat in report["agent_step"].items():
        print(
            f"{call:26} p50 {lat['p50_ms']:.2f} ms p99 {lat['p99_ms']:.2f} ms "
            f"({lat['p50_over_get_context']:.2f}x GetContext)"
        )
    if "leave_one_out" in report:
        loo = report["leave_one_out"]
        chosen = ", ".join(
            f"{ns}: {f['keyword_weight']}/{f['neighbor_weight']}/{f['time_weight']}"
            for ns, f in loo["folds"].items()
        )
        print(f"hybrid leave-one-out recall@5 {loo['recall@5']:.3f} (weights {chosen})")
        for weights, overall in loo["by_weights"].items():
            recall5 = overall["recall@5"]
            print(f"  keyword/neighbour/time weights {weights:13} recall@5 {recall5:.3f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
