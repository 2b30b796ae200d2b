"""Who is calling, as authentication established it, for the code that runs
after it.

The authentication interceptor (`memrpc.auth.interceptor`) sets `CALLER` to
the subject of the call's credential before the call's behavior runs, so the
interceptors it wraps (`fairness`) and the servicers can tell callers apart
without knowing about credentials. grpc.aio serves each call in an asyncio
task of its own, whose context holds the value for that call only. Without
authentication it stays None.
"""

from __future__ import annotations

from contextvars import ContextVar

CALLER: ContextVar[str | None] = ContextVar("memrpc_caller", default=None)
