"""What one fold of the extractive summarizer costs
(`memrpc.summaries.extractive`): the work of the running-summary job per
thread, beyond its Redis calls.

```sh
.venv/bin/python -m bench.summarize --repeat 20
```

The embedder is the server's (`load_default_embedder`: the packaged model
on one thread, behind the batcher and its cache). A summary is first filled
to its default budget (`SUMMARY_MAX_CHARS`) by folding conversation turns
of `bench/corpus.py` 20 at a time; then each measured fold takes that full
summary and new turns, never seen before (a user turn of ~90 characters
and an assistant turn of ~330, alternating):

- **1 turn** and **20 turns** into the full summary, the way the job folds
  one thread: its summary's units are in the embedder's cache (the fold
  before embedded them), the new turns' sentences are not;
- the same with **no cache** (`cache_size=0`): every unit of the summary
  embedded again, as when the process folding a thread is not the one
  that folded it last;
- **1 long turn**: one turn of `MAX_CONTENT_CHARS` characters (the most a
  turn holds), where the bound of candidates per fold matters.

Reported per case: the median, min and max wall time of `--repeat` folds,
the median CPU time of the process (the model's thread included), in ms,
and the texts each fold sent to the model. On a shared machine the wall
times follow its load; the CPU times and texts much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.corpus import assistant_turn, user_turn
from memrpc import limits as lim
from memrpc.embedding import BatchingEmbedder, load_default_embedder
from memrpc.summaries.base import FoldTurn
from memrpc.summaries.extractive import ExtractiveSummarizer

MAX_CHARS = int(lim.SUMMARY_MAX_CHARS.default)
FILL_CHUNK = 20


@dataclass
class Turns:
    """Conversation turns, each new: user and assistant alternating."""

    next_number: int = 0

    def take(self, count: int) -> list[FoldTurn]:
        taken = []
        for _ in range(count):
            number = self.next_number
            self.next_number += 1
            role, content = (
                ("user", user_turn(number))
                if number % 2 == 0
                else ("assistant", assistant_turn(number))
            )
            taken.append(FoldTurn(f"{number}-0", role, content))
        return taken

    def long(self) -> list[FoldTurn]:
        """One turn of `MAX_CONTENT_CHARS` characters, of new sentences."""
        parts: list[str] = []
        size = 0
        while size < lim.MAX_CONTENT_CHARS:
            (turn,) = self.take(1)
            parts.append(turn.content)
            size += len(turn.content) + 1
        return [FoldTurn("long-0", "tool", " ".join(parts)[: lim.MAX_CONTENT_CHARS])]


async def full_summary(summarizer: ExtractiveSummarizer, turns: Turns) -> str:
    """A summary filled to within a line of its budget."""
    summary = ""
    while len(summary) < MAX_CHARS * 0.9:
        summary = await summarizer.fold(summary, turns.take(FILL_CHUNK), max_chars=MAX_CHARS)
    return summary


async def measure(
    embedder: BatchingEmbedder, summary: str, batches: Iterator[list[FoldTurn]], repeat: int
) -> dict[str, Any]:
    """The wall time of `repeat` folds of the next batch into `summary`."""
    summarizer = ExtractiveSummarizer(embedder)
    times: list[float] = []
    cpu: list[float] = []
    texts: list[int] = []
    for _ in range(repeat):
        batch = next(batches)
        before = embedder.texts_embedded
        started, started_cpu = time.perf_counter(), time.process_time()
        await summarizer.fold(summary, batch, max_chars=MAX_CHARS)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        texts.append(embedder.texts_embedded - before)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "min_ms": round(min(times), 2),
        "max_ms": round(max(times), 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "texts_embedded_per_fold": round(statistics.mean(texts), 1),
        "folds": repeat,
    }


def batches(turns: Turns, count: int) -> Iterator[list[FoldTurn]]:
    while True:
        yield turns.take(count)


def long_turns(turns: Turns) -> Iterator[list[FoldTurn]]:
    while True:
        yield turns.long()


async def run(repeat: int) -> dict[str, Any]:
    cached = load_default_embedder()
    uncached = load_default_embedder(cache_size=0)
    try:
        turns = Turns()
        summary = await full_summary(ExtractiveSummarizer(cached), turns)
        results: dict[str, Any] = {
            "summary_chars": len(summary),
            "summary_lines": len(summary.splitlines()),
        }
        await measure(cached, summary, batches(turns, 1), 3)  # warm-up
        cases = {
            "1 turn": (cached, batches(turns, 1)),
            "20 turns": (cached, batches(turns, 20)),
            "1 turn, no cache": (uncached, batches(turns, 1)),
            "20 turns, no cache": (uncached, batches(turns, 20)),
            "1 long turn": (cached, long_turns(turns)),
        }
        for name, (embedder, source) in cases.items():
            results[name] = await measure(embedder, summary, source, repeat)
        return results
    finally:
        await cached.aclose()
        await uncached.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="folds per case")
    parser.add_argument("--out", help="write the results as JSON to this file")
    args = parser.parse_args()
    results = asyncio.run(run(args.repeat))
    print(
        f"full summary: {results['summary_chars']} characters, "
        f"{results['summary_lines']} lines (budget {MAX_CHARS})"
    )
    for name, case in results.items():
        if isinstance(case, dict):
            print(
                f"{name:20} p50 {case['p50_ms']:8.2f} ms  min {case['min_ms']:8.2f}  "
                f"max {case['max_ms']:8.2f}  CPU p50 {case['cpu_p50_ms']:8.2f} ms  "
                f"texts embedded per fold {case['texts_embedded_per_fold']}"
            )
    if args.out:
        with open(args.out, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
