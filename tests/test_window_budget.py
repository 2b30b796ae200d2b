"""A session's window is bounded by bytes as well as by turns, so that a
session at every limit stays readable by a client with gRPC's default 4 MiB
receive limit; a turn that cannot fit in an empty window is refused."""

from __future__ import annotations

import json

import grpc
import pytest

from conftest import make_settings, running
from memrpc.cli import main
from memrpc.config import Settings
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.limits import (
    CLIENT_RECEIVE_BYTES,
    MAX_CONTENT_CHARS,
    MAX_GOAL_CHARS,
    MAX_METADATA_BYTES_SETTING,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_VALUE_CHARS,
    MAX_SCRATCHPAD_CHARS,
    MIN_WINDOW_BYTES,
    SUMMARY_MAX_CHARS,
    TURN_EXCESS_BYTES,
    window_bytes,
)
from memrpc.server import MemrpcServer
from memrpc.store.redis_mux import RedisMux
from memrpc.store.summaries import SummaryStore
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2_grpc
from support import assert_invalid

EMOJI = "\U0001f600"  # 4 bytes of UTF-8
# The longest event id: both parts of a stream id at 2**64 - 1.
LONGEST_EVENT_ID = f"{2**64 - 1}-{2**64 - 1}"


def emoji_metadata(total_bytes: int) -> dict[str, str]:
    """64 entries of 4-byte characters holding about `total_bytes` in all."""
    per_value = min(MAX_METADATA_VALUE_CHARS, total_bytes // MAX_METADATA_ENTRIES // 4 - 1)
    return {f"k{i:02}": EMOJI * per_value for i in range(MAX_METADATA_ENTRIES)}


def issue_turn(i: int) -> pb.TurnInput:
    """The turn of the issue: 65,536 emoji and 64 metadata entries of 4,000
    characters (10.4 MB for 20 of them)."""
    metadata = {f"k{j:02}": f"{i:04}" + "m" * 3996 for j in range(MAX_METADATA_ENTRIES)}
    return pb.TurnInput(role="user", content=EMOJI * MAX_CONTENT_CHARS, metadata=metadata)


async def read_back(port: int, ns: str, thread: str) -> pb.Session:
    """The session, read by a client with gRPC's default options."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        response = await stub.GetSession(pb.GetSessionRequest(namespace=ns, thread_id=thread))
    assert response.ByteSize() <= CLIENT_RECEIVE_BYTES
    return response.session


DEFAULT_METADATA_BYTES = Settings().max_metadata_bytes


def test_the_budget_is_derived_from_the_limits() -> None:
    assert window_bytes(DEFAULT_METADATA_BYTES) == 3_407_872
    assert window_bytes(2 * DEFAULT_METADATA_BYTES) < window_bytes(DEFAULT_METADATA_BYTES)
    # The largest --max-metadata-bytes leaves the least budget.
    assert window_bytes(MAX_METADATA_BYTES_SETTING) == MIN_WINDOW_BYTES
    assert window_bytes(MAX_METADATA_BYTES_SETTING + 1) < MIN_WINDOW_BYTES


def test_a_turn_takes_at_most_its_excess_more_in_protobuf_than_in_its_entry() -> None:
    # The worst case for the excess: many entries whose lengths take 3 bytes.
    metadata = {f"{i:03}" * 42: EMOJI * MAX_METADATA_VALUE_CHARS for i in range(64)}
    turn = pb.Turn(role="r", content="", metadata=metadata, event_id=LONGEST_EVENT_ID)
    turn.create_time.FromMilliseconds(4_102_444_800_999)  # 2100
    entry = json.dumps(
        {"role": "r", "content": "", "metadata": metadata, "create_ms": 4_102_444_800_999},
        ensure_ascii=False,
    ).encode()
    in_session = pb.Session(turns=[turn]).ByteSize()
    assert in_session - len(entry) <= TURN_EXCESS_BYTES


async def test_a_full_session_stays_readable_by_a_default_client(
    memrpc_server: MemrpcServer, redis_server: EmbeddedRedis, wm, ns: str
) -> None:
    await wm.UpdateSession(
        pb.UpdateSessionRequest(
            namespace=ns,
            thread_id="t",
            session=pb.SessionInput(
                goal=EMOJI * MAX_GOAL_CHARS,
                scratchpad=EMOJI * MAX_SCRATCHPAD_CHARS,
                metadata=emoji_metadata(DEFAULT_METADATA_BYTES),
            ),
        )
    )
    before = 0
    for max_window_turns in (0, 40):  # the default (20) and 40
        response = await wm.AppendTurns(
            pb.AppendTurnsRequest(
                namespace=ns,
                thread_id="t",
                turns=[issue_turn(i) for i in range(20)],
                max_window_turns=max_window_turns,
            )
        )
        session = await read_back(memrpc_server.port, ns, "t")
        kept = len(session.turns)
        assert 1 < kept < 20
        assert response.evicted_turn_count == before + 20 - kept
        before = kept
        # The newest turns, oldest first.
        assert [t.metadata["k00"][:4] for t in session.turns] == [
            f"{i:04}" for i in range(20 - kept, 20)
        ]
        assert session.turn_count == 20 * (1 + bool(max_window_turns))
    # And with the longest summary, folding what left the window.
    mux = RedisMux(redis_server.url)
    try:
        work = await SummaryStore(mux).next_fold(ns, "t", min_turns=1)
        assert work is not None
        text = EMOJI * int(SUMMARY_MAX_CHARS.high)
        assert await SummaryStore(mux).write(work, text=text, summarizer="s" * 64, now_ms=1)
    finally:
        await mux.aclose()
    session = await read_back(memrpc_server.port, ns, "t")
    assert session.summary.text == text


async def test_many_small_turns_fill_the_budget_and_stay_readable(
    memrpc_server: MemrpcServer, wm, ns: str
) -> None:
    # 1,000 turns, each with 64 small metadata entries: the most framing.
    metadata = {f"k{j:02}": EMOJI * 40 for j in range(MAX_METADATA_ENTRIES)}
    for batch in range(10):
        await wm.AppendTurns(
            pb.AppendTurnsRequest(
                namespace=ns,
                thread_id="t",
                max_window_turns=1000,
                turns=[
                    pb.TurnInput(role="r", content=f"{batch * 100 + i}", metadata=metadata)
                    for i in range(100)
                ],
            )
        )
    session = await read_back(memrpc_server.port, ns, "t")
    contents = [int(t.content) for t in session.turns]
    assert contents == list(range(1000 - len(contents), 1000))


async def test_a_turn_that_cannot_fit_an_empty_window_is_refused(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    settings = make_settings(redis_server.url, max_metadata_bytes=3_300_000)
    budget = window_bytes(settings.max_metadata_bytes)
    async with (
        running(settings, embedder, grace=0.5) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        big = pb.TurnInput(
            role="user", content=EMOJI * MAX_CONTENT_CHARS, metadata=emoji_metadata(256_000)
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.AppendTurns(
                pb.AppendTurnsRequest(
                    namespace=ns,
                    thread_id="t",
                    turns=[pb.TurnInput(role="user", content="hi"), big],
                )
            )
        assert_invalid(err.value, "turns[1]")
        assert f"budget of {budget} bytes" in err.value.details()
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetSession(pb.GetSessionRequest(namespace=ns, thread_id="t"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_metadata_limit_that_leaves_no_window_is_refused_at_startup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--listen=127.0.0.1:0", f"--max-metadata-bytes={4 * 1024 * 1024}"])
    assert exited.value.code == 2
    assert f"--max-metadata-bytes must be 1 to {MAX_METADATA_BYTES_SETTING:,}" in (
        capsys.readouterr().err
    )
