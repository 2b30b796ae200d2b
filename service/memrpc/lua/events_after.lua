-- Reads a thread's log after a cursor together with where the log starts,
-- in one atomic step: a trim between two separate reads could hide a gap.
-- Read only. `store/events.py` applies the rule (`trimmed_past`).
--
-- KEYS[1] stream: the thread's log
-- ARGV[1] after: the cursor, a stream id (`0-0`: before every entry)
-- ARGV[2] count: the most entries to read after the cursor (0: none)
-- Returns {oldest, last, entries}: the id of the oldest entry left ('' when
-- the log is empty or missing); when the log exists and is empty, its last
-- generated id ('' otherwise); the entries after the cursor, oldest first.
check_shape(1, 1, 2, 0, 0)
local after = ARGV[1]
if not string.match(after, '^%d+%-%d+$') then
  bad_argument('ARGV[1] must be a stream id, not ' .. after)
end
local count = arg_integer(2, 0)
local entries = {}
if count > 0 then
  entries = redis.call('XRANGE', KEYS[1], '(' .. after, '+', 'COUNT', count)
end
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #oldest > 0 then
  return {oldest[1][1], '', entries}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'', '', entries}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then
    return {'', info[i + 1], entries}
  end
end
return {'', '', entries}
