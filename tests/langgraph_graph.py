"""A LangGraph graph using memrpc as its store, run as a process of its own
by tests/test_langgraph_store.py:

    python langgraph_graph.py write <target> <namespace> <user> <fact>...
    python langgraph_graph.py read <target> <namespace> <user> <query>

`write` runs the graph synchronously: its node puts each fact in the
store. `read` runs it with `ainvoke`, a new store instance: its node
searches the user's namespace by meaning, and the process prints the
found values and the namespaces it lists as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TypedDict

from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph

from memrpc.integrations.langgraph_store import MemrpcStore


class State(TypedDict, total=False):
    user: str
    facts: list[str]
    query: str
    found: list[dict[str, Any]]
    namespaces: list[list[str]]


def remember(state: State) -> State:
    store = get_store()
    for i, fact in enumerate(state["facts"]):
        store.put(("users", state["user"], "facts"), f"fact {i}", {"text": fact, "n": i})
    return {}


async def recall(state: State) -> State:
    store = get_store()
    found = await store.asearch(("users", state["user"]), query=state["query"], limit=2)
    namespaces = await store.alist_namespaces(prefix=("users",))
    return {
        "found": [{"key": item.key, "value": item.value} for item in found],
        "namespaces": [list(ns) for ns in namespaces],
    }


def graph(node: Any, store: MemrpcStore) -> Any:
    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile(store=store)


def main(mode: str, target: str, namespace: str, user: str, *rest: str) -> None:
    store = MemrpcStore(target, namespace=namespace)
    if mode == "write":
        graph(remember, store).invoke({"user": user, "facts": list(rest)})
        store.close()
        print(json.dumps({"written": len(rest)}))
        return

    async def read() -> State:
        try:
            state: State = await graph(recall, store).ainvoke({"user": user, "query": rest[0]})
            return state
        finally:
            await store.aclose()

    state = asyncio.run(read())
    print(json.dumps({"found": state["found"], "namespaces": state["namespaces"]}))


if __name__ == "__main__":
    main(*sys.argv[1:])
