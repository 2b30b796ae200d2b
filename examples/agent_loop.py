"""A per-turn agent loop on memrpc, with the Python client.

Each step of the agent: read the thread's working memory, recall what it
knows about the user, "think" (a stand-in for the LLM call), record the turn,
remember a new fact, and log what it did. Run it against a server started
with `make serve`:

    .venv/bin/python examples/agent_loop.py --target 127.0.0.1:50051
"""

from __future__ import annotations

import argparse

from memrpc.client import MemoryClient
from memrpc.v1 import long_term_memory_pb2 as ltm


def think(goal: str, recalled: list[str], message: str) -> str:
    """Stands in for the LLM: a reply built from what memory supplied."""
    known = "; ".join(recalled) if recalled else "nothing yet"
    return f"[goal: {goal or 'none'}] You said {message!r}. I remember: {known}."


def agent_step(memory: MemoryClient, thread: str, user: str, message: str) -> str:
    """One reasoning step of the agent, with every memory tier in play."""
    session = memory.get_session(thread)
    if session is None:
        session = memory.update_session(thread, goal="help plan a trip", user_id=user)
    about_user = ltm.MemoryFilter(user_ids=[user])
    recalled = [m.memory.text for m in memory.recall(message, filter=about_user, limit=3)]
    reply = think(session.goal, recalled, message)
    memory.append_turns(thread, [("user", message), ("assistant", reply)], user_id=user)
    if message.lower().startswith("i "):
        memory.remember(ltm.MemoryInput(text=message, user_id=user, thread_id=thread))
    memory.append_events(thread, [("agent.step", {"recalled": len(recalled)})])
    return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--namespace", default="example")
    args = parser.parse_args()
    with MemoryClient(args.target, namespace=args.namespace) as memory:
        for message in (
            "I prefer window seats on long flights",
            "I am vegetarian",
            "Which seat do I like on flights?",
            "Can I eat meat?",
        ):
            print(agent_step(memory, "thread-1", "alice", message))


if __name__ == "__main__":
    main()
