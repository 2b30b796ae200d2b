"""The benchmark suite's smoke run: it runs end to end and reports every
section. No timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GROUPS = ("echo", "memrpc", "floors", "reference")


@pytest.mark.timeout(320)
def test_bench_smoke_run_reports_every_section(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["machine"]["nproc"]
    assert report["settings"]["plan"]
    for group in GROUPS:
        ops = report["groups"][group]
        assert ops, group
        for name, entry in ops.items():
            assert entry["latency"]["count"] > 0, (group, name, entry["latency"])
            for concurrency, phase in entry["throughput"].items():
                assert phase["count"] > 0, (group, name, concurrency, phase)
    for call in ("ListSessions", "dedup_insert"):
        assert report["redis_time"][call]["calls"] > 0, call
    for op in ("GetSession", "AppendTurns"):
        for side in ("off", "on"):
            assert report["telemetry"]["ops"][op][side]["count"] > 0, (op, side)
    assert report["telemetry"]["counted_get_session_ok"] > 0
    formation = report["formation"]
    assert formation["status"] == "ok", formation
    for side in ("on", "off"):
        assert formation["appends"][side]["count"] > 0, side
    for lag in ("summary", "formation", "formation_from_chunk"):
        assert formation["lag_s"][lag]["n"] > 0, lag
    assert report["scale"]["status"] == "ok", report["scale"]
    assert report["scale"]["insert"]["created"] == report["scale"]["loaded"]
    for section in ("loadgen", "workers", "ams"):
        assert report[section]["status"], section
    if report["workers"]["status"] == "ok":
        for rates in report["workers"]["results"].values():
            assert all(phase["count"] > 0 for phase in rates.values()), rates
    names = {ratio["name"] for ratio in report["ratios"]}
    assert "GetSession p50 / echo p50" in names
    assert all(ratio["value"] is not None for ratio in report["ratios"][:5]), report["ratios"][:5]
