"""The access tracking bench (`bench/access_tracking.py`), tiny: it runs and
reports each of its figures (never a timing assert)."""

from __future__ import annotations

import json
from pathlib import Path

from support import run_bench


def test_access_tracking_bench_reports_both_arms(tmp_path: Path) -> None:
    out = tmp_path / "access.json"
    args = ["--memories", "100", "--blocks", "2", "--block", "10", "--out", str(out)]
    printed = run_bench("access_tracking", *args, timeout=300)
    results = json.loads(out.read_text())
    for name in ("recurring", "random"):
        assert name in printed
        # Every match of the recording arm is recorded, and written by the end.
        assert (results[name]["recorded"], results[name]["dropped"]) == (10 * 10, 0)
    assert results["writes"]["memories_written"] > 0
