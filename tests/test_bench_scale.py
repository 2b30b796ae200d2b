"""The scale bench (`bench/scale.py`) at a tiny size: a load cut after its
first chunk continues where it stopped on a second run, which then reports
every figure (never a timing assert)."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_bench

TINY = (
    *("--memories", "300", "--scope", "100", "--chunk", "200", "--max-seconds", "0"),
    *("--queries", "4", "--warmup", "1", "--recall-queries", "4"),
)


def test_scale_bench_resumes_its_load_and_reports_every_figure(tmp_path: Path) -> None:
    data, out = tmp_path / "d", tmp_path / "scale.json"
    first = run_bench("scale", *TINY, "--data-dir", str(data), timeout=300)
    assert "partial: 200 of 300 loaded (this run began at 0)" in first
    second = run_bench("scale", *TINY, "--data-dir", str(data), "--out", str(out), timeout=300)
    assert "300 memories, 3 users of 100" in second
    section = json.loads(out.read_text())
    assert section["status"] == "ok"
    assert section["resumed_at"] == 200
    assert section["insert"]["created"] == 300  # none lost, none twice
    assert section["bytes_per_memory"] > 0
    kinds = {(row["kind"], row["filter"]) for row in section["search"]}
    assert kinds == {(k, f) for k in ("vector", "hybrid") for f in ("namespace", "user")}
    assert all(row["matches_per_query"] == 10 for row in section["search"])
    for scope in ("namespace", "user"):
        searches = [row["search"] for row in section["recall"][scope]]
        assert searches[0] == "SearchMemories"
        assert all(0.0 <= row["recall_at_10"] <= 1.0 for row in section["recall"][scope])
    assert section["aof"]["aof_bytes"] > 0
    assert section["aof"]["num_docs_after"] == 300
    for text in ("SearchMemories", "EF_RUNTIME 200", "AOF", "restart"):
        assert text in second
