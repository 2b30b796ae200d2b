"""The summarizer bench (`bench/summarize.py`) with one fold per case: it
runs and reports each of its figures (never a timing assert)."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_bench

CASES = ("1 turn", "20 turns", "1 turn, no cache", "20 turns, no cache", "1 long turn")


def test_summarize_bench_reports_every_case(tmp_path: Path) -> None:
    out = tmp_path / "summarize.json"
    printed = run_bench("summarize", "--repeat", "1", "--out", str(out), timeout=300)
    results = json.loads(out.read_text())
    for case in CASES:
        assert case in printed
        assert results[case]["folds"] == 1
        assert results[case]["texts_embedded_per_fold"] > 0
    # The cache spares the full summary's units: only new sentences are embedded.
    assert (
        results["1 turn"]["texts_embedded_per_fold"]
        < results["1 turn, no cache"]["texts_embedded_per_fold"]
    )
