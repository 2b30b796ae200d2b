package dev.memrpc.client;

import dev.memrpc.v1.Event;
import dev.memrpc.v1.TailEventsRequest;
import dev.memrpc.v1.TailEventsResponse;
import dev.memrpc.v1.ThreadCursor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a {@code EventLog.TailEvents} stream has got to, so that it can be resumed after a
 * disconnect.
 *
 * <p>Give it the request that opened the stream, then {@link #observe} every message received;
 * {@link #resumeRequest()} is the request that continues right after the last observed message:
 * no event is missed or repeated while it is still in the log. A checkpoint sets the cursor of
 * every thread it names; an event sets its thread's cursor to the event's id.
 *
 * <p>Until the first checkpoint arrives, a thread opened "from now" (empty {@code
 * after_event_id}) has no position yet: resuming then starts from a new "now". Thread-safe.
 */
public final class TailPosition {
  private final TailEventsRequest request;
  private final Map<String, String> cursors = new LinkedHashMap<>();

  /** Starts from the cursors of the request that opened (or will open) the stream. */
  public TailPosition(TailEventsRequest request) {
    this.request = request;
    for (ThreadCursor cursor : request.getCursorsList()) {
      cursors.put(cursor.getThreadId(), cursor.getAfterEventId());
    }
  }

  /** Records a message of the stream, in the order received. */
  public synchronized void observe(TailEventsResponse message) {
    switch (message.getMessageCase()) {
      case EVENT -> {
        Event event = message.getEvent();
        cursors.put(event.getThreadId(), event.getId());
      }
      case CHECKPOINT -> {
        for (ThreadCursor cursor : message.getCheckpoint().getCursorsList()) {
          cursors.put(cursor.getThreadId(), cursor.getAfterEventId());
        }
      }
      default -> {
        // MESSAGE_NOT_SET: nothing to record.
      }
    }
  }

  /** The position reached in every followed thread, in the request's thread order. */
  public synchronized List<ThreadCursor> cursors() {
    List<ThreadCursor> result = new ArrayList<>(cursors.size());
    cursors.forEach(
        (thread, after) ->
            result.add(
                ThreadCursor.newBuilder().setThreadId(thread).setAfterEventId(after).build()));
    return result;
  }

  /** The original request with the cursors reached: send it to resume the stream. */
  public TailEventsRequest resumeRequest() {
    return request.toBuilder().clearCursors().addAllCursors(cursors()).build();
  }
}
