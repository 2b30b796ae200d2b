-- Appends the events of one request to a thread's log and to its namespace
-- feed, atomically: all of them or none (the first XADD is the first write,
-- so a refusal such as OOM happens before anything is written).
--
-- KEYS[1]: the thread's stream. KEYS[2]: the namespace feed.
-- ARGV: max_len, feed_max_len, thread id, then for each event the number of
-- its stream fields followed by those fields (see lib/events.lua).
-- Returns the events' ids in the thread's log, in request order.
local max_len, feed_max_len, thread = ARGV[1], ARGV[2], ARGV[3]
local ids = {}
local i = 4
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local fields = {unpack(ARGV, i + 1, i + n)}
  ids[#ids + 1] = append_event(KEYS[1], KEYS[2], max_len, feed_max_len, thread, fields)
  i = i + n + 1
end
return ids
