-- Shared helper: appends one event to a thread's log and to its namespace
-- feed, in the caller's atomic script.
--
-- fields: the flat list of the event's stream fields: `type`, then optionally
-- `data` (bytes) or `json` (a JSON object as text), then optionally `attrs`
-- (a JSON object of string attributes). The thread log's entry adds `prev`,
-- the id of the event before it in the log (`0-0` for the first), so that a
-- reader can tell, from the first event it reads after its position, whether
-- events in between were trimmed before it read them. The feed entry adds
-- `thread` and `event_id`, the entry's id in the thread's log.

-- The newest event id of each log this script appended to.
local newest_ids = {}

-- The id of a log's newest event: its last entry's, or for a log trimmed
-- empty its last generated id; `0-0` for a log never written.
local function newest_id(stream)
  local newest = newest_ids[stream]
  if newest then
    return newest
  end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last > 0 then
    return last[1][1]
  end
  if redis.call('EXISTS', stream) == 1 then
    local info = redis.call('XINFO', 'STREAM', stream)
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then
        return info[i + 1]
      end
    end
  end
  return '0-0'
end

-- Appends the event of `fields`; returns its id in the thread's log.
local function append_event(stream, feed, max_len, feed_max_len, thread, fields)
  local prev = newest_id(stream)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*', 'prev', prev,
    unpack(fields))
  newest_ids[stream] = id
  redis.call('XADD', feed, 'MAXLEN', '~', feed_max_len, '*',
    'thread', thread, 'event_id', id, unpack(fields))
  return id
end
