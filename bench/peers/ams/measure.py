"""Latency of a running Agent Memory Server's REST API at concurrency 1.

Runs under the AMS venv (bench/peers/ams/.venv). Seeds long-term memories
through the API (batches of 25) and waits until RediSearch has indexed them all, then times,
one request at a time on one keep-alive HTTP connection, after a warm-up:

* ``wm_put``: ``PUT /v1/working-memory/{session}``, the session's last
  ``--window`` messages with one new turn (AMS has no append: a client PUTs the
  whole working memory each turn).
* ``wm_get``: ``GET /v1/working-memory/{session}``.
* ``lt_search``: ``POST /v1/long-term-memory/search`` by text, ``limit`` 10,
  filtered to the namespace; every query text is distinct, so no embedding
  cache hit. AMS defaults otherwise (recency re-rank on, no query optimisation).
* ``lt_search_norecency``: the same with ``recency_boost`` off (no re-rank and
  no background ``last_accessed`` update), new query texts.
* ``lt_create``: ``POST /v1/long-term-memory/`` of one memory with
  ``deduplicate`` on (``run`` turns semantic dedup off, as it needs an LLM).
  AMS answers once the task is queued, before embedding and indexing, so this
  is the acknowledgement latency, slowed by the previous create's indexing
  running in the same event loop.

Writes ``{"ops": {name: {"p50_us","p90_us","p99_us","count"}}, "seeded": ...,
"versions": {...}}`` as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import redis
from ulid import ULID

_VOCABULARY = (
    "alpha apple blue river mountain coffee paris train budget meeting garden "
    "python redis vector memory agent user likes prefers travel flight hotel "
    "monday friday morning evening project deadline report music jazz guitar "
    "doctor dentist birthday gift sister brother cat dog walk run swim yoga "
    "allergic peanuts vegetarian spicy food sushi pizza book novel history"
)
_WORDS = _VOCABULARY.split()
_INDEX = "memory_records"
_SEED_BATCH = 25
# Lets the background tasks one phase started finish before the next is timed.
_SETTLE_S = 1.0


def _sentence(rng: random.Random, n: int = 12) -> str:
    """A deterministic pseudo-sentence of ``n`` words."""
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _percentiles(samples_ns: list[int]) -> dict[str, float | int]:
    """p50/p90/p99 (nearest rank) in microseconds and the sample count."""
    ordered = sorted(samples_ns)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] / 1000, 1)

    return {
        "p50_us": rank(0.50),
        "p90_us": rank(0.90),
        "p99_us": rank(0.99),
        "count": len(ordered),
    }


def _timed(call: Callable[[int], httpx.Response], warmup: int, samples: int) -> list[int]:
    """Run ``call(i)`` ``warmup`` times untimed, then ``samples`` times timed (ns)."""
    for i in range(warmup):
        call(i).raise_for_status()
    out = []
    for i in range(warmup, warmup + samples):
        start = time.perf_counter_ns()
        response = call(i)
        out.append(time.perf_counter_ns() - start)
        response.raise_for_status()
    return out


def _indexed(client: redis.Redis) -> int:
    """Documents in AMS's long-term index (0 before it exists)."""
    try:
        info = client.execute_command("FT.INFO", _INDEX)  # type: ignore[no-untyped-call]
    except redis.ResponseError:
        return 0
    return int(info["num_docs"])  # redis-py parses FT.INFO into a dict


def _seed(http: httpx.Client, db: redis.Redis, namespace: str, count: int, timeout: float) -> float:
    """Create ``count`` memories, ``_SEED_BATCH`` per request, each batch indexed before
    the next; return the end-to-end rate per second.

    With in-process background tasks AMS starts one Redis-using task per new memory at
    once, so larger or back-to-back batches exhaust its Redis pool (100 connections).
    """
    rng = random.Random(1)
    target = _indexed(db)
    start = time.perf_counter()
    deadline = start + timeout
    for offset in range(0, count, _SEED_BATCH):
        memories = [
            {"id": str(ULID()), "text": _sentence(rng), "namespace": namespace}
            for _ in range(min(_SEED_BATCH, count - offset))
        ]
        http.post(
            "/v1/long-term-memory/", json={"memories": memories, "deduplicate": False}
        ).raise_for_status()
        target += len(memories)
        while _indexed(db) < target:
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {_indexed(db)}/{target} memories indexed in time")
            time.sleep(0.01)
    return count / (time.perf_counter() - start)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Seed, then time every op; return the result document."""
    db = redis.Redis.from_url(args.redis_url, decode_responses=True)
    rng = random.Random(2)
    ns = args.namespace
    ops: dict[str, dict[str, float | int]] = {}
    with httpx.Client(base_url=args.base_url, timeout=30.0) as http:
        http.get("/v1/health").raise_for_status()
        seed_rate = _seed(http, db, ns, args.seed, args.seed_timeout)
        time.sleep(_SETTLE_S)

        session = "bench-session"
        window: list[dict[str, str]] = []

        def put(i: int) -> httpx.Response:
            window.append(
                {
                    "role": "user" if i % 2 == 0 else "assistant",
                    "content": _sentence(rng),
                    "created_at": datetime.now(UTC).isoformat(),
                }
            )
            del window[: -args.window]
            return http.put(
                f"/v1/working-memory/{session}",
                params={"namespace": ns},
                json={"messages": window, "namespace": ns},
            )

        ops["wm_put"] = _percentiles(_timed(put, args.warmup, args.samples))
        time.sleep(_SETTLE_S)

        def get(_: int) -> httpx.Response:
            return http.get(f"/v1/working-memory/{session}", params={"namespace": ns})

        ops["wm_get"] = _percentiles(_timed(get, args.warmup, args.samples))

        per_op = args.warmup + args.samples
        queries = [f"{_sentence(rng, 6)} {i}" for i in range(2 * per_op)]

        def search(i: int, recency: bool = True) -> httpx.Response:
            return http.post(
                "/v1/long-term-memory/search",
                json={
                    "text": queries[i if recency else per_op + i],
                    "limit": 10,
                    "namespace": {"eq": ns},
                    "recency_boost": recency,
                },
            )

        ops["lt_search"] = _percentiles(_timed(search, args.warmup, args.samples))
        time.sleep(_SETTLE_S)
        ops["lt_search_norecency"] = _percentiles(
            _timed(lambda i: search(i, recency=False), args.warmup, args.samples)
        )
        time.sleep(_SETTLE_S)

        def create(_: int) -> httpx.Response:
            memory = {"id": str(ULID()), "text": _sentence(rng), "namespace": ns}
            return http.post(
                "/v1/long-term-memory/", json={"memories": [memory], "deduplicate": True}
            )

        ops["lt_create"] = _percentiles(_timed(create, args.warmup, args.samples))

    server_info = db.info("server")
    modules = {m["name"]: m["ver"] for m in db.module_list()}
    versions = {
        name: version(name)
        for name in (
            "agent-memory-server",
            "agent-memory-client",
            "litellm",
            "redisvl",
            "fastapi",
            "uvicorn",
            "httpx",
        )
    }
    versions["python"] = platform.python_version()
    versions["server"] = str(server_info.get("valkey_version") or server_info["redis_version"])
    versions.update({f"module:{k}": v for k, v in modules.items()})
    return {
        "ops": ops,
        "seeded": {"memories": args.seed, "ingest_per_s": round(seed_rate, 1)},
        "versions": versions,
    }


def main() -> None:
    """Parse arguments, measure, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="AMS API, e.g. http://127.0.0.1:8000")
    parser.add_argument("--redis-url", required=True, help="the Redis AMS uses")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--namespace", default="bench")
    parser.add_argument("--seed", type=int, default=1000, help="long-term memories to seed")
    parser.add_argument("--seed-timeout", type=float, default=300.0)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--window", type=int, default=10, help="messages kept per PUT")
    args = parser.parse_args()
    args.out.write_text(json.dumps(measure(args), indent=2) + "\n")


if __name__ == "__main__":
    main()
