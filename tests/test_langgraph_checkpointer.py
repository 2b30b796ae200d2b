"""`MemrpcSaver`, the LangGraph checkpointer of the Python client, against a
live memrpc: LangGraph's own conformance suite (PyPI
`langgraph-checkpoint-conformance`) run unmodified, every capability; a
real graph interrupted by one saver and resumed by another on new
connections (a restarted worker), asyncio and blocking; and the example of
docs/integrations.md, run as written."""

from __future__ import annotations

import asyncio
import operator
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import Capability
from langgraph.checkpoint.conformance.report import ProgressCallbacks
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt

from memrpc.client import AsyncMemoryClient, MemoryClient
from memrpc.integrations.langgraph_checkpoint import MemrpcSaver
from memrpc.server import MemrpcServer
from support import INTEGRATIONS_DOC, doc_examples

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
async def target(memrpc_server: MemrpcServer) -> str:
    return f"127.0.0.1:{memrpc_server.port}"


@pytest.fixture(scope="module")
async def namespace() -> str:
    return f"lg{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def aclient(target: str, namespace: str) -> AsyncIterator[AsyncMemoryClient]:
    async with AsyncMemoryClient(target, namespace=namespace) as client:
        yield client


async def test_the_conformance_suite_passes_every_capability(aclient: AsyncMemoryClient) -> None:
    @checkpointer_test(name="MemrpcSaver")
    async def memrpc_saver() -> AsyncIterator[MemrpcSaver]:
        yield MemrpcSaver(aclient=aclient)

    report = await validate(memrpc_saver, progress=ProgressCallbacks.verbose())
    report.print_report()
    results = report.to_dict()["results"]
    assert set(results) == {capability.value for capability in Capability}
    for name, result in results.items():
        assert result["detected"], name
        assert result["passed"], (name, result["failures"])
    assert report.conformance_level() == "FULL"


class Trip(TypedDict):
    log: Annotated[list[str], operator.add]


def _builder() -> StateGraph[Trip]:
    def plan(state: Trip) -> dict[str, Any]:
        return {"log": ["planned"]}

    def confirm(state: Trip) -> dict[str, Any]:
        answer = interrupt({"question": "book it?"})
        return {"log": [f"confirmed: {answer}"]}

    def book(state: Trip) -> dict[str, Any]:
        return {"log": ["booked"]}

    builder = StateGraph(Trip)
    builder.add_node("plan", plan)
    builder.add_node("confirm", confirm)
    builder.add_node("book", book)
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "confirm")
    builder.add_edge("confirm", "book")
    builder.add_edge("book", END)
    return builder


DONE = ["hi", "planned", "confirmed: yes", "booked"]


async def test_an_interrupted_graph_resumes_from_a_new_saver(target: str, namespace: str) -> None:
    config: Any = {"configurable": {"thread_id": f"trip-{uuid.uuid4()}"}}
    async with AsyncMemoryClient(target, namespace=namespace) as first:
        graph = _builder().compile(checkpointer=MemrpcSaver(aclient=first))
        paused = await graph.ainvoke({"log": ["hi"]}, config)
        assert paused["__interrupt__"][0].value == {"question": "book it?"}
        assert (await graph.aget_state(config)).next == ("confirm",)
    # A restarted worker: new connections, a new saver, the same thread.
    async with AsyncMemoryClient(target, namespace=namespace) as second:
        graph = _builder().compile(checkpointer=MemrpcSaver(aclient=second))
        state = await graph.aget_state(config)
        assert state.values == {"log": ["hi", "planned"]}
        assert state.tasks[0].interrupts[0].value == {"question": "book it?"}
        done = await graph.ainvoke(Command(resume="yes"), config)
        assert done["log"] == DONE
        history = [snapshot async for snapshot in graph.aget_state_history(config)]
    assert history[0].values == {"log": DONE}
    assert history[0].next == ()
    assert history[-1].metadata["source"] == "input"  # the first checkpoint of the thread
    # Each checkpoint's parent is the next one of the history (newest first).
    parents = [s.parent_config["configurable"]["checkpoint_id"] for s in history[:-1]]
    assert parents == [s.config["configurable"]["checkpoint_id"] for s in history[1:]]


def _nested() -> StateGraph[Trip]:
    """A graph with a subgraph that interrupts (its checkpoints in a child
    checkpoint namespace) and a fan-out of `Send`s (parallel tasks' writes)."""

    def ask(state: Trip) -> dict[str, Any]:
        return {"log": [f"inner got {interrupt('inner question')}"]}

    inner = StateGraph(Trip)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")
    inner.add_edge("ask", END)

    def fan(state: Trip) -> list[Send]:
        return [Send("work", {"log": [f"w{i}"]}) for i in range(3)]

    def work(state: Trip) -> dict[str, Any]:
        return {"log": [f"worked on {state['log'][-1]}"]}

    outer = StateGraph(Trip)
    outer.add_node("sub", inner.compile())
    outer.add_node("work", work)
    outer.add_edge(START, "sub")
    outer.add_conditional_edges("sub", fan, ["work"])
    outer.add_edge("work", END)
    return outer


async def _nested_run(saver: BaseCheckpointSaver[Any]) -> tuple[list[str], list[Any]]:
    """The final log and the history's (next, values) of `_nested` run
    until its interrupt and resumed."""
    graph = _nested().compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "nested"}}
    await graph.ainvoke({"log": ["start"]}, config)
    done = await graph.ainvoke(Command(resume="yes"), config)
    history = [(s.next, s.values) async for s in graph.aget_state_history(config)]
    return done["log"], history


async def test_a_subgraph_and_parallel_sends_run_as_on_langgraphs_own_saver(
    aclient: AsyncMemoryClient,
) -> None:
    log, history = await _nested_run(MemrpcSaver(aclient=aclient))
    assert (log, history) == await _nested_run(InMemorySaver())
    assert "inner got yes" in log
    assert log.count("worked on w1") == 1


def _blocking_run(target: str, namespace: str, thread: str) -> tuple[tuple[str, ...], list[str]]:
    """Interrupts with one blocking saver, resumes with another."""
    config: Any = {"configurable": {"thread_id": thread}}
    with MemoryClient(target, namespace=namespace) as first:
        graph = _builder().compile(checkpointer=MemrpcSaver(first))
        graph.invoke({"log": ["hi"]}, config)
        waiting = graph.get_state(config).next
    with MemoryClient(target, namespace=namespace) as second:
        graph = _builder().compile(checkpointer=MemrpcSaver(second))
        log: list[str] = graph.invoke(Command(resume="yes"), config)["log"]
    return waiting, log


async def test_the_blocking_methods_resume_a_thread_too(target: str, namespace: str) -> None:
    # The server runs on this event loop: the blocking graph runs in a thread.
    waiting, log = await asyncio.to_thread(_blocking_run, target, namespace, str(uuid.uuid4()))
    assert waiting == ("confirm",)
    assert log == DONE


def _example() -> str:
    """The Python example of the doc."""
    (block,) = doc_examples("## LangGraph checkpointer")
    return block


async def test_the_documented_example_runs(target: str) -> None:
    namespace = f"doc{uuid.uuid4().hex[:12]}"
    source = _example().replace('namespace="acme"', f"namespace={namespace!r}")
    code = compile(
        source, str(INTEGRATIONS_DOC), "exec", dont_inherit=True
    )  # not this file's __future__
    await asyncio.to_thread(exec, code, {"target": target, "__name__": "example"})
    async with AsyncMemoryClient(target, namespace=namespace) as client:
        saver = MemrpcSaver(aclient=client)
        stored = await saver.aget_tuple({"configurable": {"thread_id": "trip-42"}})
    assert stored is not None
    assert stored.checkpoint["channel_values"]["log"][-1] == "user said yes"
