"""A per-turn agent loop on memrpc, with the Python client.

Each step of the agent is two calls: `get_context` before the model call
(the thread's session, with its running summary and recent turns, and what
it knows about the user, in one round trip) and `append_turns` after it;
"think" stands in for the LLM call. A fact the user states is also
remembered. Run it against a server started with `make serve`:

    .venv/bin/python examples/agent_loop.py --target 127.0.0.1:50051
"""

from __future__ import annotations

import argparse

from memrpc.client import MemoryClient
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm


def think(session: wm.Session, recalled: list[str], message: str) -> str:
    """Stands in for the LLM: a reply built from what memory supplied (the
    goal, the summary of the turns that left the window, the recent turns
    and the memories recalled)."""
    known = "; ".join(recalled) if recalled else "nothing yet"
    earlier = f" Earlier: {session.summary.text}" if session.summary.text else ""
    return (
        f"[goal: {session.goal or 'none'}, {len(session.turns)} recent turns]{earlier} "
        f"You said {message!r}. I remember: {known}."
    )


def agent_step(memory: MemoryClient, thread: str, user: str, message: str) -> str:
    """One reasoning step of the agent: two calls to memrpc, one to the model."""
    about_user = ltm.MemoryFilter(user_ids=[user])  # the session's user, even before it exists
    context = memory.get_context(thread, message, filter=about_user, limit=3)
    if context.HasField("session"):
        session = context.session
    else:  # the thread's first step
        session = memory.update_session(thread, goal="help plan a trip", user_id=user)
    reply = think(session, [m.memory.text for m in context.matches], message)
    memory.append_turns(thread, [("user", message), ("assistant", reply)], user_id=user)
    if message.lower().startswith("i "):
        memory.remember(ltm.MemoryInput(text=message, user_id=user, thread_id=thread))
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
