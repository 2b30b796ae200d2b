"""Hatch hooks of memrpc-client (pyproject.toml names this file for both).

- The version is the repository's one, read from VERSION: ../../VERSION in a
  checkout, ./VERSION in the sdist (which ships a copy).
- A wheel carries the stubs of memrpc.v1, generated while it builds from the
  protos with grpcio-tools' protoc (a build requirement): ../../proto in a
  checkout, ./proto in the sdist (which ships them), so a wheel builds from a
  clean checkout or from the sdist alone. google/api/field_behavior.proto,
  which the protos import, comes from googleapis-common-protos (also a build
  requirement), google/protobuf/*.proto from grpcio-tools. The wheel requires
  the grpcio and protobuf versions the generated code checks for at import.
- An editable install (`pip install -e clients/python`, as `make install`
  does) generates nothing: it uses the stubs `make generate` writes into
  memrpc/v1/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

HERE = Path(__file__).resolve().parent


def _first(*candidates: Path) -> Path:
    for path in candidates:
        if path.exists():
            return path
    names = ", ".join(str(p) for p in candidates)
    raise FileNotFoundError(f"memrpc-client: none of {names} exists")


def version_file() -> Path:
    return _first(HERE / "VERSION", HERE.parents[1] / "VERSION")


def proto_root() -> Path:
    return _first(HERE / "proto", HERE.parents[1] / "proto")


class VersionHook(MetadataHookInterface):
    """Sets the version from the repository's VERSION file."""

    PLUGIN_NAME = "custom"

    def update(self, metadata: dict[str, Any]) -> None:
        metadata["version"] = version_file().read_text("utf-8").strip()


class StubsHook(BuildHookInterface):  # type: ignore[type-arg]
    """Generates memrpc/v1 into a wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        import google.api.field_behavior_pb2  # googleapis-common-protos
        import grpc_tools

        protos = proto_root()
        sources = sorted((protos / "memrpc" / "v1").glob("*.proto"))
        if not sources:
            raise FileNotFoundError(f"memrpc-client: no protos in {protos}/memrpc/v1")
        googleapis = Path(google.api.field_behavior_pb2.__file__).resolve().parents[2]
        well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
        self._out = Path(tempfile.mkdtemp(prefix="memrpc-client-stubs-"))
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{protos}",
            f"-I{googleapis}",
            f"-I{well_known}",
            f"--python_out={self._out}",
            f"--pyi_out={self._out}",
            f"--grpc_python_out={self._out}",
            *(str(p.relative_to(protos)) for p in sources),
        ]
        done = subprocess.run(
            command, cwd=protos, capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"memrpc-client: protoc failed:\n{done.stdout}{done.stderr}")
        generated = sorted((self._out / "memrpc" / "v1").iterdir())
        for path in generated:
            build_data["force_include"][str(path)] = f"memrpc/v1/{path.name}"
        build_data["dependencies"].extend(self._runtime_requirements(generated))

    @staticmethod
    def _runtime_requirements(generated: list[Path]) -> list[str]:
        """What the generated code checks at import: protobuf at least the
        version of the protoc that wrote it, grpcio at least grpcio-tools'."""
        found: dict[str, str] = {}
        patterns = {
            "protobuf": re.compile(r"^# Protobuf Python Version: ([0-9.]+)$", re.M),
            "grpcio": re.compile(r"^GRPC_GENERATED_VERSION = '([0-9.]+)'$", re.M),
        }
        for path in generated:
            if path.suffix != ".py":
                continue
            text = path.read_text("utf-8")
            for name, pattern in patterns.items():
                match = pattern.search(text)
                if match:
                    found[name] = match.group(1)
        return [f"{name}>={version}" for name, version in sorted(found.items())]

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
