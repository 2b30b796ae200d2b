"""The descriptor set users download (`make descriptors`,
dist/memrpc-v1.binpb): the contract with its comments and every file it
imports, the same services as the server's; grpcurl -protoset and ghz
--protoset work with it against a live server; and stubs of other languages
generate from it with protoc and Debian's plugins (tools/install-protoc-plugins):
PHP (`php -l` on every file) and C# (the messages of every method; gRPC
stubs too where grpc_csharp_plugin exists, which Debian 12's
protobuf-compiler-grpc lacks; not compiled: no dotnet here, and its
Google.Protobuf and Grpc packages come from NuGet, which this project's
machines do not reach)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from cli_tools import GHZ_CALLS, ROOT, address, ghz_report, grpcurl_call, run
from memrpc.server import SERVICE_NAMES
from support import skip_or_fail

SKIP = 77
CONTRACT = sorted(f"memrpc/v1/{path.name}" for path in (ROOT / "proto/memrpc/v1").glob("*.proto"))
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def descriptor_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The descriptor set `make descriptors` writes, written to a folder of
    the test's own."""
    out = tmp_path_factory.mktemp("descriptors") / "memrpc-v1.binpb"
    subprocess.run(
        ["make", "-s", "descriptors", f"DESCRIPTORS={out}"],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    return out


def files_of(path: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    found = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    return {file.name: file for file in found.file}


def test_the_set_holds_the_contract_with_comments_and_imports(descriptor_set):
    files = files_of(descriptor_set)
    assert set(CONTRACT) <= files.keys()
    # Every import, so that protoc and the tools need nothing else.
    for file in files.values():
        assert set(file.dependency) <= files.keys(), file.name
    assert "google/api/field_behavior.proto" in files
    # Comments (source info), which grpcurl describe and generated code show.
    for name in CONTRACT:
        comments = [loc.leading_comments for loc in files[name].source_code_info.location]
        assert any(comments), name
    # The services and methods the server serves.
    pool = descriptor_pool.Default()
    served = {
        service.full_name: {method.name for method in service.methods}
        for service in (pool.FindServiceByName(name) for name in SERVICE_NAMES)
    }
    in_set = {
        f"{file.package}.{service.name}": {method.name for method in service.method}
        for file in files.values()
        for service in file.service
    }
    assert in_set == served


async def test_grpcurl_with_the_set(grpc_cli, descriptor_set, memrpc_server, ns):
    protoset = ("-protoset", str(descriptor_set))
    listed = await run(grpc_cli.grpcurl, *protoset, "list")
    assert set(listed.stdout.split()) == set(SERVICE_NAMES)
    described = await run(
        grpc_cli.grpcurl, *protoset, "describe", "memrpc.v1.WorkingMemory.GetSession"
    )
    assert "// Returns a session" in described.stdout  # its comment
    target = address(memrpc_server)
    body = {"namespace": ns, "thread_id": "t1", "session": {"goal": "from a protoset"}}
    method = "memrpc.v1.WorkingMemory/UpdateSession"
    answer = await grpcurl_call(grpc_cli, target, method, body, *protoset)
    assert answer["session"]["goal"] == "from a protoset"


async def test_ghz_with_the_set(grpc_cli, descriptor_set, memrpc_server, ns):
    body = {"namespace": ns, "thread_id": "t1", "turns": [{"role": "user", "content": "hi"}]}
    report = await ghz_report(
        grpc_cli,
        "--protoset",
        str(descriptor_set),
        "--call",
        "memrpc.v1.WorkingMemory.AppendTurns",
        "-d",
        json.dumps(body),
        address(memrpc_server),
    )
    assert report["statusCodeDistribution"] == {"OK": GHZ_CALLS}, report


@pytest.fixture(scope="module")
def protoc_plugins() -> None:
    result = subprocess.run(
        [str(ROOT / "tools" / "install-protoc-plugins")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode == SKIP:
        skip_or_fail(f"C# and PHP stubs: {result.stderr.strip()}")
    assert result.returncode == 0, f"tools/install-protoc-plugins failed:\n{result.stderr}"


def protoc(descriptor_set: Path, *args: str) -> None:
    result = subprocess.run(
        ["protoc", f"--descriptor_set_in={descriptor_set}", *args, *CONTRACT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"protoc {args} failed:\n{result.stderr}"


def service_names() -> list[str]:
    return [name.rsplit(".", 1)[1] for name in SERVICE_NAMES]


def test_php_stubs_generate_and_parse(protoc_plugins, descriptor_set, tmp_path):
    plugin = shutil.which("grpc_php_plugin")
    assert plugin is not None
    protoc(
        descriptor_set,
        f"--php_out={tmp_path}",
        f"--grpc_out={tmp_path}",
        f"--plugin=protoc-gen-grpc={plugin}",
    )
    generated = sorted(tmp_path.rglob("*.php"))
    assert generated
    for path in generated:
        linted = subprocess.run(
            ["php", "-l", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        assert linted.returncode == 0, f"{path}: {linted.stdout}{linted.stderr}"
    names = {path.name for path in generated}
    for service in service_names():
        assert f"{service}Client.php" in names, service
        client = next(tmp_path.rglob(f"{service}Client.php")).read_text()
        assert f"/memrpc.v1.{service}/" in client


def test_csharp_stubs_generate(protoc_plugins, descriptor_set, tmp_path):
    plugin = shutil.which("grpc_csharp_plugin")
    grpc_args = [f"--grpc_out={tmp_path}", f"--plugin=protoc-gen-grpc={plugin}"] if plugin else []
    protoc(descriptor_set, f"--csharp_out={tmp_path}", *grpc_args)
    code = "\n".join(path.read_text() for path in sorted(tmp_path.glob("*.cs")))
    pool = descriptor_pool.Default()
    for name in SERVICE_NAMES:
        for method in pool.FindServiceByName(name).methods:
            assert f"partial class {method.input_type.name} " in code, method.full_name
            assert f"partial class {method.output_type.name} " in code, method.full_name
        if plugin:
            assert f"static partial class {name.rsplit('.', 1)[1]}" in code, name


def test_the_openapi_description_is_current_and_covers_every_method(descriptor_set: Path) -> None:
    document = ROOT / "docs" / "openapi.json"
    checked = subprocess.run(
        [
            ROOT / ".venv/bin/python",
            "-m",
            "memrpc.http.openapi",
            descriptor_set,
            "--check",
            document,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    described = json.loads(document.read_text())
    pool = descriptor_pool.Default()
    served = {
        f"/{name}/{method.name}"
        for name in SERVICE_NAMES
        for method in pool.FindServiceByName(name).methods
    }
    assert set(described["paths"]) == served
    schemas = described["components"]["schemas"]
    refs = {ref.rpartition("/")[2] for ref in _values(described, "$ref")}
    assert refs <= set(schemas), refs - set(schemas)


def _values(node: object, key: str) -> list[str]:
    """Every value of `key` at any depth of a JSON document."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [
            found for value in node.values() for found in _values(value, key)
        ]
    if isinstance(node, list):
        return [found for value in node for found in _values(value, key)]
    return []
