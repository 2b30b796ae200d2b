"""A hung test's asyncio tasks, printed before pytest-timeout fails it.

pytest-timeout dumps the stacks of threads, where a hung asyncio test shows
only its event loop waiting in `select`: what the test is stuck on is a
task's stack. A little before the test's timeout, this plugin asks every
running event loop (found among the live objects, from a timer thread) to
print each of its tasks' stacks to stderr, which the failure report shows.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

# How long before the timeout the tasks are printed.
AHEAD_S = 10.0
# The attributes of a coroutine, generator or async generator that hold its
# frame, and those that hold what it awaits.
FRAMES = ("cr_frame", "gi_frame", "ag_frame")
AWAITS = ("cr_await", "gi_yieldfrom", "ag_await")


def _awaiting(awaitable: Any) -> Iterator[str]:
    """Where `awaitable` and what it awaits, in turn, are suspended."""
    for _ in range(100):  # bounded: a chain of awaits is short
        frame = next(
            (getattr(awaitable, name) for name in FRAMES if getattr(awaitable, name, None)), None
        )
        if frame is None:
            if awaitable is not None:
                yield f"  awaiting {awaitable!r}"
            return
        yield f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        awaitable = next(
            (getattr(awaitable, name) for name in AWAITS if getattr(awaitable, name, None)), None
        )


def _print_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    print(f"--- {len(tasks)} asyncio task(s) of the hung test's loop ---", file=sys.stderr)
    for task in tasks:
        print(task.get_name(), *_awaiting(task.get_coro()), sep="\n", file=sys.stderr)


def _report() -> None:
    for thing in gc.get_objects():
        if isinstance(thing, asyncio.AbstractEventLoop) and thing.is_running():
            thing.call_soon_threadsafe(_print_tasks, thing)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    marker = item.get_closest_marker("timeout")
    timeout = (
        float(marker.args[0])
        if marker and marker.args
        else float(item.config.getini("timeout") or 0)
    )
    timer = threading.Timer(timeout - AHEAD_S, _report) if timeout > AHEAD_S else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
