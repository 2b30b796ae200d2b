"""Event tails fanned out from one shared read of each thread log.

A server process has one `TailHub` (`hub.py`): it hands each tail a
`Subscription` (`subscription.py`) to its threads, and has the thread logs
that some subscription follows read by a few `Reader`s (`reader.py`), each
with blocking `XREAD`s on a connection of its own. Each event read is parsed
once and handed to every subscription of its log; a subscription behind its
log reads the history itself, then takes the shared reads again. A log
trimmed past a subscription's cursor makes it fail with `EventsTrimmed`
(`store/events.py`), never skip the lost events silently. Stream ids
are compared as numbers (`store/stream_ids.py`). Redis itself is reached only
through `EventStore` (`store/events.py`).
"""

from memrpc.tails.hub import HubStats, TailHub
from memrpc.tails.subscription import SubscriberTooSlow, Subscription

__all__ = ["HubStats", "SubscriberTooSlow", "Subscription", "TailHub"]
