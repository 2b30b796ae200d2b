"""The soak (`bench/soak.py`) in short: it runs, every call succeeds, and
memory is sampled. Never a timing or a slope: those are for the long run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(120)
def test_short_soak_has_no_errors_and_samples_memory(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    args = ["--seconds", "8", "--rate", "40", "--sample-every", "1", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["errors"] == 0
    assert report["calls"] > 0
    for name, statuses in report["statuses"].items():
        assert set(statuses) == {"OK"}, (name, statuses)
    assert len(report["statuses"]) == 6
    assert len(report["samples"]) >= 3
    for sample in report["samples"]:
        assert sample["server_rss_mib"] > 0
        assert sample["redis_used_mib"] > 0
    assert set(report["slope_mib_per_min"]) == {"server_rss_mib", "redis_used_mib"}
    assert all(isinstance(s, float) for s in report["slope_mib_per_min"].values())
