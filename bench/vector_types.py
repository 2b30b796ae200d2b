"""FLOAT16 against FLOAT32 stored vectors, in one run: dedup decisions and
LoCoMo recall.

```sh
.venv/bin/python -m bench.vector_types --out vector_types.json
```

Starts two embedded servers, one per `--vector-type`, and sends both the
same calls:

- **Dedup.** Pairs of texts, each in a namespace of its own: the first
  created, then the second, with the server's default dedup distance
  (0.20); the pair agrees when both servers give the second the same
  outcome (created, or a duplicate of the first). The pairs: `PARAPHRASES`
  (in the style of the seed cases: a preference, a fact, said twice) and
  `UNRELATED`, and the pairs of turns of the LoCoMo development
  conversations (`bench.recall`'s data) whose distance, computed here with
  the model in float32, is within `NEAR` of 0.20: the pairs whose decision
  a rounding could flip.
- **Recall.** `bench.recall`'s measure on both (each mode's recall@1/5/10
  and latency; no leave-one-out).

Without the LoCoMo data the bench says so and runs the seed pairs only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import redis.asyncio

from bench import recall
from bench.servers import embedded_memrpc
from memrpc.embedding import OnnxModel
from memrpc.limits import DEDUP_DISTANCE
from memrpc.store.memory_document import VectorType
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import long_term_memory_pb2_grpc

# Pairs of the same thing said twice, and of unrelated things.
PARAPHRASES = [
    ("The user prefers dark mode.", "User likes the dark theme."),
    ("Alice is allergic to peanuts.", "Alice has a peanut allergy."),
    ("The meeting was moved to Friday.", "The meeting has been rescheduled to Friday."),
    ("Bob's favourite colour is green.", "Bob likes green best."),
    ("The deploy failed because the disk was full.", "The release broke: no disk space left."),
    ("Carol lives in Lisbon.", "Carol's home is in Lisbon."),
    ("The user wants answers in French.", "Reply to the user in French."),
    ("Dan is vegetarian.", "Dan does not eat meat."),
    ("The team meets every Monday at 10.", "Weekly team meeting: Mondays, 10 am."),
    ("The user's budget is $500.", "The user can spend 500 dollars."),
    ("Eve works as a nurse.", "Eve is a nurse by profession."),
    ("The flight leaves at 7 pm.", "Departure is at 19:00."),
]
UNRELATED = [
    ("The cat sat on the mat.", "Quarterly revenue grew by 12 percent."),
    ("How do I reset my password?", "The recipe calls for two cups of flour."),
    ("Alice is allergic to peanuts.", "The train to Berlin leaves at seven."),
]
# LoCoMo pairs at a distance within this of the dedup threshold.
NEAR = 0.03
# At most this many of them (the nearest to the threshold first).
MAX_NEAR_PAIRS = 300
CALL_TIMEOUT_S = 30.0


def near_pairs(conversations: dict[str, dict[str, Any]], model: OnnxModel) -> list[tuple[str, str]]:
    """The pairs of turns of each conversation whose cosine distance is within
    `NEAR` of the dedup threshold, nearest to it first."""
    threshold = DEDUP_DISTANCE.default
    found: list[tuple[float, str, str]] = []
    for conversation in conversations.values():
        texts = sorted({turn.text for turn in recall.turns(conversation)})
        vectors = model.embed(texts)
        distances = 1.0 - vectors @ vectors.T
        rows, cols = np.nonzero(np.abs(distances - threshold) <= NEAR)
        found += [
            (abs(float(distances[i, j]) - threshold), texts[i], texts[j])
            for i, j in zip(rows, cols, strict=True)
            if i < j
        ]
    found.sort()
    return [(a, b) for _, a, b in found[:MAX_NEAR_PAIRS]]


async def outcomes(channel: grpc.aio.Channel, pairs: Sequence[tuple[str, str]]) -> list[bool]:
    """For each pair, whether the server takes the second text as a
    duplicate of the first (each pair in a namespace of its own)."""
    stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
    found = []
    for n, (first, second) in enumerate(pairs):
        request = ltm.CreateMemoriesRequest(
            namespace=f"vt-{n}",
            memories=[ltm.MemoryInput(text=first), ltm.MemoryInput(text=second)],
        )
        reply = await stub.CreateMemories(request, timeout=CALL_TIMEOUT_S)
        found.append(reply.results[1].outcome == ltm.CREATE_OUTCOME_DUPLICATE)
    return found


async def measure_one(
    vector_type: VectorType,
    pairs: Sequence[tuple[str, str]],
    conversations: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The dedup outcomes and the recall report of a server storing
    `vector_type` vectors."""
    extra = [*recall.UNCACHED, "--vector-type", vector_type.value]
    async with (
        embedded_memrpc(extra_args=extra) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        report: dict[str, Any] = {"duplicates": await outcomes(channel, pairs)}
        if conversations:
            report["recall"] = await recall.measure(channel, conversations, [], dated=False)
        client = redis.asyncio.from_url(server.redis_url)
        try:
            report["used_memory"] = (await client.info("memory"))["used_memory"]
        finally:
            await client.aclose()
    return report


async def measure(conversations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Both servers' reports, and how they compare."""
    near = near_pairs(conversations, OnnxModel()) if conversations else []
    pairs = [*PARAPHRASES, *UNRELATED, *near]
    wide = await measure_one(VectorType.FLOAT32, pairs, conversations)
    half = await measure_one(VectorType.FLOAT16, pairs, conversations)
    agree = [a == b for a, b in zip(wide["duplicates"], half["duplicates"], strict=True)]
    seed = len(PARAPHRASES) + len(UNRELATED)
    report: dict[str, Any] = {
        "dedup": {
            "seed_pairs": seed,
            "seed_agree": sum(agree[:seed]),
            "seed_duplicates_float32": sum(wide["duplicates"][:seed]),
            "near_pairs": len(near),
            "near_agree": sum(agree[seed:]),
            "disagreeing": [
                {"first": a, "second": b, "float32_duplicate": d}
                for (a, b), same, d in zip(pairs, agree, wide["duplicates"], strict=True)
                if not same
            ],
        },
        "float32": {k: v for k, v in wide.items() if k != "duplicates"},
        "float16": {k: v for k, v in half.items() if k != "duplicates"},
    }
    if conversations:
        report["recall_at_5_drop"] = {
            mode: wide["recall"][mode]["overall"]["recall@5"]
            - half["recall"][mode]["overall"]["recall@5"]
            for mode in recall.MODES
        }
    return report


def lines(report: dict[str, Any]) -> list[str]:
    """The report as text lines."""
    dedup = report["dedup"]
    out = [
        f"dedup at {DEDUP_DISTANCE.default}: seed pairs {dedup['seed_agree']}/"
        f"{dedup['seed_pairs']} agree ({dedup['seed_duplicates_float32']} duplicates in "
        f"FLOAT32); LoCoMo pairs within {NEAR} of it {dedup['near_agree']}/"
        f"{dedup['near_pairs']} agree",
        f"used_memory: FLOAT32 {report['float32']['used_memory']:,} B, "
        f"FLOAT16 {report['float16']['used_memory']:,} B",
    ]
    for mode, drop in report.get("recall_at_5_drop", {}).items():
        wide = report["float32"]["recall"][mode]
        half = report["float16"]["recall"][mode]
        out.append(
            f"{mode:8} recall@5 FLOAT32 {wide['overall']['recall@5']:.4f} FLOAT16 "
            f"{half['overall']['recall@5']:.4f} (drop {drop:+.4f}); search p50 "
            f"{wide['latency']['p50_ms']:.2f} / {half['latency']['p50_ms']:.2f} ms"
        )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=recall.DEFAULT_DATA)
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    conversations = recall.conversations_in(args.data)
    if not conversations:
        print(f"no LoCoMo conversations in {args.data}: seed pairs only", file=sys.stderr)
    report = asyncio.run(measure(conversations))
    print("\n".join(lines(report)))
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
