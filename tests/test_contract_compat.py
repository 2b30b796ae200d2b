"""The contract stays compatible: `buf breaking` (run by `make check`)
passes for proto/ against the published baseline, and fails for a change
that would break clients — so the check can fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUF = ROOT / ".venv" / "bin" / "buf"
BASELINE = ROOT / "proto" / "baseline" / "memrpc-v1.binpb"


def breaking(workspace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUF), "breaking", "proto", "--against", str(BASELINE)],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_contract(into: Path) -> Path:
    """A workspace holding a copy of proto/, buf.yaml and the googleapis
    protos it imports."""
    shutil.copytree(ROOT / "proto", into / "proto")
    shutil.copytree(ROOT / ".tools" / "googleapis", into / ".tools" / "googleapis")
    shutil.copy(ROOT / "buf.yaml", into / "buf.yaml")
    return into


def test_the_contract_is_compatible_with_its_baseline() -> None:
    result = breaking(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_renumbered_field_breaks_the_build(tmp_path: Path) -> None:
    workspace = copy_of_the_contract(tmp_path)
    proto = workspace / "proto" / "memrpc" / "v1" / "long_term_memory.proto"
    text = proto.read_text()
    assert "int64 hit_count = 12" in text
    proto.write_text(text.replace("int64 hit_count = 12", "int64 hit_count = 99"))
    result = breaking(workspace)
    assert result.returncode != 0
    assert 'field "12" with name "hit_count"' in result.stdout, result.stdout


def test_an_added_field_does_not(tmp_path: Path) -> None:
    workspace = copy_of_the_contract(tmp_path)
    proto = workspace / "proto" / "memrpc" / "v1" / "long_term_memory.proto"
    text = proto.read_text()
    field = "message Memory {\n  // A field added later.\n  string added_later = 99;\n"
    proto.write_text(text.replace("message Memory {\n", field, 1))
    result = breaking(workspace)
    assert result.returncode == 0, result.stdout + result.stderr
