"""Pages cut by bytes, so that every list and search response fits in what a
gRPC client accepts by default (`limits.CLIENT_RECEIVE_BYTES`, 4 MiB).

A page takes items in order while their encoded size, as elements of the
response's repeated field, stays within `limits.MAX_PAGE_BYTES`. The
first item is always taken, so a page is never empty while items remain (an
item larger than the budget comes alone: the write limits keep each item
within what a client accepts). A paged RPC continues after the last item of
the page, so no item is skipped. A response that holds more than the page
(`GetContext`: a session, then matches) gives the page what its other
fields leave of the budget, and may then have no room even for the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from google.protobuf.message import Message

from memrpc.limits import MAX_PAGE_BYTES

M = TypeVar("M", bound=Message)

# An element's tag and length prefix: at most 1 + 5 bytes (field numbers
# under 16, lengths under 2^35).
_ELEMENT_OVERHEAD = 6


def fitting(
    items: Iterable[M], budget: int = MAX_PAGE_BYTES, *, at_least_one: bool = True
) -> list[M]:
    """The first `items` whose encoded sizes add up to at most `budget`
    bytes, and at least one unless `at_least_one` is False. `items` is read
    no further than needed, so a generator builds only the messages of the
    page and the one after."""
    page: list[M] = []
    size = 0
    for item in items:
        size += item.ByteSize() + _ELEMENT_OVERHEAD
        if size > budget and (page or not at_least_one):
            break
        page.append(item)
    return page
