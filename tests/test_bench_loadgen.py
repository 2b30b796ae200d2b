"""The Go load generator of `make bench` (bench/loadgen) builds against the
Go client and passes its own tests: the bench's smoke run does not run it,
and a full run only reports a failed build, so a contract change that
breaks it is caught here. No timing assertions."""

from __future__ import annotations

import subprocess

from support import ROOT, skip_or_fail

LOADGEN = ROOT / "bench" / "loadgen"
# The build script's exit status when the Go toolchain is missing or too old.
NO_TOOLCHAIN = 77


def test_the_go_load_generator_builds_and_passes_its_tests() -> None:
    build = subprocess.run(
        [str(LOADGEN / "build")], capture_output=True, text=True, timeout=600, check=False
    )
    if build.returncode == NO_TOOLCHAIN:
        skip_or_fail(build.stderr.strip())
    assert build.returncode == 0, build.stderr[-4000:]
    tests = subprocess.run(
        ["go", "test", "-p", "2", "./..."],
        cwd=LOADGEN,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert tests.returncode == 0, (tests.stdout + tests.stderr)[-4000:]
