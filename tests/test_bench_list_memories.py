"""The listing bench (`bench/list_memories.py`) at a small size: it runs and
reports each of its figures (never a timing assert)."""

from __future__ import annotations

import subprocess
import sys

from support import ROOT


def test_list_memories_bench_reports_pages_and_the_hit_path() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.list_memories", "--memories", "300", "--repeat", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for order in ("newest", "most_hit"):
        for size in (50, 1000):
            for where in ("first", "deep"):
                assert f"{order:8} page of {size:>5} {where:5}:" in done.stdout
    assert "index without id, hit_count" in done.stdout
    assert "index with id, hit_count" in done.stdout
