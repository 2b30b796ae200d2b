"""The access tracking bench (`bench/access_tracking.py`), tiny: it runs and
reports each of its figures (never a timing assert)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import ROOT


def test_access_tracking_bench_reports_both_arms(tmp_path: Path) -> None:
    out = tmp_path / "access.json"
    args = ["--memories", "100", "--blocks", "2", "--block", "10", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.access_tracking", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(out.read_text())
    for name in ("recurring", "random"):
        assert name in done.stdout
        # Every match of the recording arm is recorded, and written by the end.
        assert (results[name]["recorded"], results[name]["dropped"]) == (10 * 10, 0)
    assert results["writes"]["memories_written"] > 0
