"""Hatch build hook of the memrpc server (pyproject.toml names this file).

A wheel carries the stubs of server reflection v1 (`memrpc.grpc_reflection.v1`:
grpcio-reflection ships v1alpha only), generated while it builds from the
vendored proto/third_party/grpc/reflection/v1/reflection.proto with
grpcio-tools' protoc (a build requirement), compiled under the path of the
package it lands in, as tools/generate-reflection-v1 does for a checkout; so
a wheel built from a clean checkout is whole. An editable install
(`make install`) generates nothing: it uses the stubs `make generate` writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

HERE = Path(__file__).resolve().parent
PACKAGE = "memrpc/grpc_reflection/v1"


class ReflectionStubsHook(BuildHookInterface):  # type: ignore[type-arg]
    """Generates memrpc/grpc_reflection/v1 into a wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._out = Path(tempfile.mkdtemp(prefix="memrpc-reflection-"))
        source = self._out / "in" / PACKAGE
        source.mkdir(parents=True)
        shutil.copy(HERE / "proto/third_party/grpc/reflection/v1/reflection.proto", source)
        command = [
            sys.executable, "-m", "grpc_tools.protoc", f"-I{self._out / 'in'}",
            f"--python_out={self._out}", f"--pyi_out={self._out}",
            f"--grpc_python_out={self._out}", f"{PACKAGE}/reflection.proto",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"memrpc: protoc failed:\n{done.stdout}{done.stderr}")
        for path in sorted((self._out / PACKAGE).iterdir()):
            build_data["force_include"][str(path)] = f"{PACKAGE}/{path.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        out = getattr(self, "_out", None)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
