-- Shared helper: appends one event to a thread's log and to its namespace
-- feed, in the caller's atomic script.
--
-- fields: the flat list of the event's stream fields: `type`, then optionally
-- `data` (bytes) or `json` (a JSON object as text), then optionally `attrs`
-- (a JSON object of string attributes). The feed entry adds `thread` and
-- `event_id`, the entry's id in the thread's log.
-- Returns the event's id in the thread's log.
local function append_event(stream, feed, max_len, feed_max_len, thread, fields)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*', unpack(fields))
  redis.call('XADD', feed, 'MAXLEN', '~', feed_max_len, '*',
    'thread', thread, 'event_id', id, unpack(fields))
  return id
end
