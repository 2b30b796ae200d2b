"""A program of a memrpc-client user: UpdateSession, AppendTurns, GetSession.

python consumer.py TARGET NAMESPACE THREAD
"""

import sys

import memrpc.client
from memrpc.client import MemoryClient

target, namespace, thread = sys.argv[1:4]
assert "site-packages" in memrpc.client.__file__, memrpc.client.__file__
with MemoryClient(target, namespace=namespace) as memory:
    memory.update_session(thread, goal="installed python package")
    memory.append_turns(thread, [("user", "hello from the python package")])
    session = memory.get_session(thread)
    assert session is not None
    assert session.goal == "installed python package", session
    assert [t.content for t in session.turns] == ["hello from the python package"], session
    print(f"python: {memrpc.client.__file__}: session version {session.version}")
