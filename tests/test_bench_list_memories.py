"""The listing bench (`bench/list_memories.py`) at a small size: it runs and
reports each of its figures (never a timing assert)."""

from __future__ import annotations

from support import run_bench


def test_list_memories_bench_reports_pages_and_the_hit_path() -> None:
    printed = run_bench("list_memories", "--memories", "300", "--repeat", "2", timeout=120)
    for order in ("newest", "most_hit"):
        for size in (50, 1000):
            for where in ("first", "deep"):
                assert f"{order:8} page of {size:>5} {where:5}:" in printed
    assert "index without id, hit_count" in printed
    assert "index with id, hit_count" in printed
