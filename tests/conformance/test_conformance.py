"""Runs the conformance scenario with every language's runner against a live
server, the interop pairs between languages, and checks that committed
generated code is current. See README.md in this folder."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import pytest

from memrpc.server import MemrpcServer
from memrpc.v1.error_reason_pb2 import ErrorReason
from support import skip_or_fail

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LANGS = ["python", "go", "typescript", "java", "rust", "cpp", "ruby"]
SKIP = 77  # the exit code of a build or generate script whose toolchain is missing
BUILD_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 300
# A test may build up to two runners cold (downloads included) before running.
pytestmark = pytest.mark.timeout(2 * BUILD_TIMEOUT_S + 2 * RUN_TIMEOUT_S)


def run_script(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


_built: dict[str, str | None] = {}


def built(lang: str) -> None:
    """Builds the language's runner once per session (skips when impossible)."""
    if lang not in _built:
        script = HERE / "runners" / lang / "build"
        if not script.exists():
            _built[lang] = f"{lang}: no conformance runner at {script.relative_to(ROOT)}"
        else:
            result = run_script([str(script)], BUILD_TIMEOUT_S)
            if result.returncode == SKIP:
                _built[lang] = f"{lang}: toolchain missing: {result.stderr.strip()}"
            elif result.returncode != 0:
                pytest.fail(f"{lang} runner build failed:\n{result.stdout}\n{result.stderr}")
            else:
                _built[lang] = None
    reason = _built[lang]
    if reason is not None:
        skip_or_fail(reason)


async def run_scenario(lang: str, port: int, scenario: str, **variables: str) -> str:
    args = [
        str(HERE / "runners" / lang / "run"),
        "--target",
        f"127.0.0.1:{port}",
        "--scenario",
        str(HERE / scenario),
    ]
    for name, value in variables.items():
        args += ["--var", f"{name}={value}"]
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    text = output.decode(errors="replace")
    assert proc.returncode == 0, f"{lang} runner failed on {scenario}:\n{text}"
    assert "conformance: " in text
    assert " 0 failed" in text.splitlines()[-1], text
    return text


def fresh_ns(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def scenario_steps(name: str) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = json.loads((HERE / name).read_text("utf-8"))["steps"]
    return steps


@pytest.mark.parametrize("scenario", ["scenario.json", "interop_write.json", "interop_read.json"])
def test_error_steps_name_their_reason(scenario: str) -> None:
    """Every step expecting an error names its ErrorInfo reason (README.md:
    `expect.reason`), one of the proto's; `reason` and `errorMetadata` come
    only with a non-OK code, and such a step saves only from `errorMetadata`."""
    reasons = set(ErrorReason.keys()) - {"ERROR_REASON_UNSPECIFIED"}
    for step in scenario_steps(scenario):
        expect = step.get("expect", {})
        assert isinstance(expect, dict)
        name = step["name"]
        if expect.get("code", "OK") == "OK":
            assert "reason" not in expect, name
            assert "errorMetadata" not in expect, name
            continue
        assert expect.get("reason") in reasons, f"{name}: expect.reason must name an ErrorReason"
        saves = step.get("save", {})
        assert isinstance(saves, dict)
        for path in saves.values():
            assert path.startswith("errorMetadata."), f"{name}: saves {path} from an error"


@pytest.mark.parametrize("lang", LANGS)
async def test_scenario(lang: str, memrpc_server: MemrpcServer) -> None:
    built(lang)
    await run_scenario(
        lang, memrpc_server.port, "scenario.json", ns=fresh_ns(f"c{lang}"), ns2=fresh_ns("x")
    )


@pytest.mark.parametrize(
    ("writer", "reader"), [(w, LANGS[(i + 1) % len(LANGS)]) for i, w in enumerate(LANGS)]
)
async def test_interop(writer: str, reader: str, memrpc_server: MemrpcServer) -> None:
    built(writer)
    built(reader)
    ns = fresh_ns(f"i{writer}")
    await run_scenario(writer, memrpc_server.port, "interop_write.json", ns=ns)
    await run_scenario(reader, memrpc_server.port, "interop_read.json", ns=ns)


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "python"])
def test_generated_code_is_current(lang: str) -> None:
    script = ROOT / "clients" / lang / "generate"
    if not script.exists():
        skip_or_fail(f"{lang}: no generator at {script.relative_to(ROOT)}")
    result = run_script([str(script), "--check"], BUILD_TIMEOUT_S)
    if result.returncode == SKIP:
        skip_or_fail(f"{lang}: toolchain missing: {result.stderr.strip()}")
    assert result.returncode == 0, (
        f"clients/{lang}: committed generated code is stale; run `make generate-clients`\n"
        f"{result.stdout}\n{result.stderr}"
    )
