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
in metadata; never expiring; write-time dedup off), created through
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
keyword weight of `--weights` (untimed); for each conversation, the weight
best on the other four (mean recall@5 over their questions) is scored on it,
and the figure reported is the mean of the five held-out recall@5 (and the
held-out questions' scores pooled, overall and per category).

`--date-in-text` prefixes each memory's text with its session's date
(`"[8 May, 2023] "`): a bench-only way to measure what the date adds to what
the keyword index and the model see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from bench.report import machine_info
from bench.servers import add_target_arguments, given_or_embedded_memrpc, parse_with_target
from bench.stats import percentiles_ms
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import long_term_memory_pb2_grpc

DEFAULT_DATA = Path(os.environ.get("MEMRPC_LOCOMO_DIR", "/work/shared/locomo-dev"))
MODES = {
    "vector": ltm.RECALL_MODE_VECTOR,
    "keyword": ltm.RECALL_MODE_KEYWORD,
    "hybrid": ltm.RECALL_MODE_HYBRID,
}
LIMIT = 10
KS = (1, 5, 10)
# Memories per CreateMemories call (the server's default batch limit is 100).
CREATE_CALL = 100
CALL_TIMEOUT_S = 60.0
# The keyword weights the leave-one-out chooses among.
WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0)
# The embedded server's flags: no embedding cache, so each text is embedded in its call.
UNCACHED = ("--embed-cache-size", "0")


def turns(conversation: dict[str, Any], *, dated: bool = False) -> list[tuple[str, str]]:
    """Each turn of a conversation as (dia_id, memory text), in order; with
    `dated`, the text begins with its session's date (`"[8 May, 2023] "`)."""
    found = []
    for key, value in conversation.items():
        if key.startswith("session_") and isinstance(value, list):
            when = conversation.get(f"{key}_date_time", "")
            prefix = f"[{when.split(' on ')[-1]}] " if dated and when else ""
            for turn in value:
                text = f"{prefix}{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shares a photo: {turn['blip_caption']}]"
                found.append((turn["dia_id"], text))
    return found


def questions(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions with evidence (categories 1 to 4, evidence named)."""
    return [
        qa for qa in conversation["qa"] if qa.get("category") in (1, 2, 3, 4) and qa["evidence"]
    ]


async def load(stub: Any, ns: str, conversation: dict[str, Any], *, dated: bool) -> int:
    """Creates a conversation's turns as memories (`turns`); returns how many."""
    items = [
        ltm.MemoryInput(text=text, metadata={"dia_id": dia_id})
        for dia_id, text in turns(conversation, dated=dated)
    ]
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


async def measure(
    stub: Any, conversations: dict[str, dict[str, Any]], weights: Sequence[float], *, dated: bool
) -> dict[str, Any]:
    """Loads every conversation, then searches every question in every mode
    (timed), and in hybrid mode with each of `weights` (untimed)."""
    loaded = {ns: await load(stub, ns, conv, dated=dated) for ns, conv in conversations.items()}
    rows: dict[str, list[tuple[int, dict[str, float]]]] = {mode: [] for mode in MODES}
    latency: dict[str, list[float]] = {mode: [] for mode in MODES}
    # grid[weight][ns]: the (category, scores) of each question of ns.
    grid: dict[float, dict[str, list[tuple[int, dict[str, float]]]]] = {
        w: {ns: [] for ns in conversations} for w in weights
    }
    for ns, conversation in conversations.items():
        for n, qa in enumerate(questions(conversation)):
            order = list(MODES.items())
            order = order[n % len(order) :] + order[: n % len(order)]  # take turns
            for name, mode in order:
                began = time.perf_counter()
                found = await search(stub, ns, qa, mode=mode)
                latency[name].append(time.perf_counter() - began)
                rows[name].append((qa["category"], found))
            for weight in weights:
                found = await search(
                    stub, ns, qa, mode=ltm.RECALL_MODE_HYBRID, keyword_weight=weight
                )
                grid[weight][ns].append((qa["category"], found))
    vector_p50 = percentiles_ms(latency["vector"])["p50_ms"]
    report: dict[str, Any] = {"memories": loaded, "questions": len(rows["vector"])}
    report["date_in_text"] = dated
    for name in MODES:
        lat = percentiles_ms(latency[name])
        lat["p50_over_vector"] = lat["p50_ms"] / vector_p50
        report[name] = {**summary(rows[name]), "latency": lat}
    if weights:
        report["leave_one_out"] = leave_one_out(grid)
    return report


def leave_one_out(
    grid: dict[float, dict[str, list[tuple[int, dict[str, float]]]]],
) -> dict[str, Any]:
    """For each conversation, the weight whose mean recall@5 over the other
    conversations' questions is best, and its scores on this one: the mean
    of the held-out recall@5 (`recall@5`), each fold's, and the held-out
    questions pooled (`held_out`)."""
    conversations = list(next(iter(grid.values())))
    folds, pooled = {}, []
    for held in conversations:

        def tuned(weight: float, held: str = held) -> float:
            rows = [s for ns, r in grid[weight].items() if ns != held for _, s in r]
            return means(rows)["recall@5"]

        best = max(grid, key=tuned)
        folds[held] = {
            "weight": best,
            "recall@5": means([s for _, s in grid[best][held]])["recall@5"],
        }
        pooled += grid[best][held]
    return {
        "recall@5": sum(f["recall@5"] for f in folds.values()) / len(folds),
        "folds": folds,
        "held_out": summary(pooled),
        "by_weight": {
            str(w): means([s for r in by_ns.values() for _, s in r]) for w, by_ns in grid.items()
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
        "--date-in-text", action="store_true", help="begin each memory's text with its date"
    )
    add_target_arguments(parser)
    args = parse_with_target(parser, argv)
    files = sorted(args.data.glob("conv-*.json")) if args.data.is_dir() else []
    if not files:
        print(f"no LoCoMo conversations in {args.data}: skipped", file=sys.stderr)
        return 0
    conversations = {f"locomo-{f.stem}": json.loads(f.read_text()) for f in files}
    async with (
        given_or_embedded_memrpc(args.address, args.redis_url, extra_args=UNCACHED) as target,
        grpc.aio.insecure_channel(target.address) as channel,
    ):
        stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        weights = [float(w) for w in args.weights.split(",") if w]
        report = await measure(stub, conversations, weights, dated=args.date_in_text)
    report["machine"] = machine_info()
    for name in MODES:
        overall, lat = report[name]["overall"], report[name]["latency"]
        print(
            f"{name:8} recall@1 {overall['recall@1']:.3f} recall@5 {overall['recall@5']:.3f} "
            f"recall@10 {overall['recall@10']:.3f} hit@5 {overall['hit@5']:.3f}  "
            f"search p50 {lat['p50_ms']:.2f} ms ({lat['p50_over_vector']:.2f}x vector) "
            f"p99 {lat['p99_ms']:.2f} ms"
        )
    if "leave_one_out" in report:
        loo = report["leave_one_out"]
        chosen = ", ".join(f"{ns}: {f['weight']}" for ns, f in loo["folds"].items())
        print(f"hybrid leave-one-out recall@5 {loo['recall@5']:.3f} (weights {chosen})")
        for weight, overall in loo["by_weight"].items():
            print(f"  weight {weight:5} recall@5 {overall['recall@5']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
