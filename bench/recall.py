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
`SearchMemories` (its text, limit 10) in every mode, the modes taking turns
question by question, after one untimed search of the question (so that
each mode's call finds the text's embedding in the server's cache: the
latency is the search's own; a text not cached adds its embedding, about
5 ms of CPU, to vector and hybrid calls alike). recall@k: the share of a
question's evidence turns in the first k matches; hit@k: at least one of them there; means over the
questions, overall and per category. Latency: the wall time of each
`SearchMemories` call (gRPC on loopback, text embedded by the server), p50
and p99 per mode. The server is an embedded one (`bench.servers`), or the
one at `--address`.
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


def turns(conversation: dict[str, Any]) -> list[tuple[str, str]]:
    """Each turn of a conversation as (dia_id, memory text), in order."""
    found = []
    for key, value in conversation.items():
        if key.startswith("session_") and isinstance(value, list):
            for turn in value:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shares a photo: {turn['blip_caption']}]"
                found.append((turn["dia_id"], text))
    return found


def questions(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions with evidence (categories 1 to 4, evidence named)."""
    return [
        qa for qa in conversation["qa"] if qa.get("category") in (1, 2, 3, 4) and qa["evidence"]
    ]


async def load(stub: Any, ns: str, conversation: dict[str, Any]) -> int:
    """Creates a conversation's turns as memories; returns how many."""
    items = [
        ltm.MemoryInput(text=text, metadata={"dia_id": dia_id})
        for dia_id, text in turns(conversation)
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


async def measure(stub: Any, conversations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Loads every conversation, then searches every question in every mode."""
    loaded = {ns: await load(stub, ns, conv) for ns, conv in conversations.items()}
    rows: dict[str, list[tuple[int, dict[str, float]]]] = {mode: [] for mode in MODES}
    latency: dict[str, list[float]] = {mode: [] for mode in MODES}
    for ns, conversation in conversations.items():
        for n, qa in enumerate(questions(conversation)):
            warm = ltm.SearchMemoriesRequest(namespace=ns, text=qa["question"], limit=1)
            await stub.SearchMemories(warm, timeout=CALL_TIMEOUT_S)
            order = list(MODES.items())
            order = order[n % len(order) :] + order[: n % len(order)]  # take turns
            for name, mode in order:
                request = ltm.SearchMemoriesRequest(
                    namespace=ns, text=qa["question"], limit=LIMIT, mode=mode
                )
                began = time.perf_counter()
                reply = await stub.SearchMemories(request, timeout=CALL_TIMEOUT_S)
                latency[name].append(time.perf_counter() - began)
                found = [match.memory.metadata["dia_id"] for match in reply.matches]
                rows[name].append((qa["category"], scores(found, qa["evidence"])))
    report: dict[str, Any] = {"memories": loaded, "questions": len(rows["vector"])}
    for name in MODES:
        by_category = {
            str(c): means([s for cat, s in rows[name] if cat == c]) for c in (1, 2, 3, 4)
        }
        report[name] = {
            "overall": means([s for _, s in rows[name]]),
            "by_category": by_category,
            "latency": percentiles_ms(latency[name]),
        }
    return report


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    add_target_arguments(parser)
    args = parse_with_target(parser, argv)
    files = sorted(args.data.glob("conv-*.json")) if args.data.is_dir() else []
    if not files:
        print(f"no LoCoMo conversations in {args.data}: skipped", file=sys.stderr)
        return 0
    conversations = {f"locomo-{f.stem}": json.loads(f.read_text()) for f in files}
    async with (
        given_or_embedded_memrpc(args.address, args.redis_url) as target,
        grpc.aio.insecure_channel(target.address) as channel,
    ):
        report = await measure(long_term_memory_pb2_grpc.LongTermMemoryStub(channel), conversations)
    report["machine"] = machine_info()
    for name in MODES:
        overall, lat = report[name]["overall"], report[name]["latency"]
        print(
            f"{name:8} recall@1 {overall['recall@1']:.3f} recall@5 {overall['recall@5']:.3f} "
            f"recall@10 {overall['recall@10']:.3f} hit@5 {overall['hit@5']:.3f}  "
            f"search p50 {lat['p50_ms']:.2f} ms p99 {lat['p99_ms']:.2f} ms"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
