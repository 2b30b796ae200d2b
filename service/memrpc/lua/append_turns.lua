-- AppendTurns: appends turns to the window, evicting the oldest beyond its
-- size, and records every turn in the thread's event log, atomically.
-- KEYS: [1] session Hash, [2] namespace listing index, [3] the thread's
--       event Stream, [4] the namespace feed Stream.
-- ARGV: [1] thread id, [2] now (ms), [3] ttl (ms), [4] expected version or '',
--       [5] window size, [6] event log MAXLEN, [7] feed MAXLEN, [8] user id
--       for a new session, [9] that user's listing index ('' for no user),
--       then per turn: its window entry (a JSON object) and its event
--       payload (JSON).
-- Returns {0, version} on a version mismatch, else
-- {1, version, evicted, turn_count, event ids...}.
-- Bounded work: one pass over the request's turns (at most
-- `Limits.max_batch_items`, memrpc/limits.py) and over the window's sizes
-- (at most the window size); the window is never decoded.
local key, idx, stream, feed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local thread, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local window_size = tonumber(ARGV[5])
local version, ok = session_version(key, ARGV[4])
if not ok then
  return {0, version}
end
if version == 0 and ARGV[8] ~= '' then
  session_set_user(key, thread, ARGV[8], ARGV[9])
end

-- The window stays JSON text, never decoded here: `turns` is the JSON array
-- and `turn_sizes` the byte length of each entry, comma-separated, so that
-- appending and evicting are string operations whatever the window holds.
local stored = redis.call('HMGET', key, 'turns', 'turn_sizes')
local pieces, sizes = {}, {}
if stored[1] and #stored[1] > 2 then
  pieces[1] = string.sub(stored[1], 2, -2)
  for size in string.gmatch(stored[2] or '', '%d+') do
    sizes[#sizes + 1] = tonumber(size)
  end
end
local ids = {}
for i = 10, #ARGV, 2 do
  pieces[#pieces + 1] = ARGV[i]
  sizes[#sizes + 1] = #ARGV[i]
  ids[#ids + 1] = append_event(stream, feed, ARGV[6], ARGV[7], thread,
    {'type', 'memrpc.turn', 'json', ARGV[i + 1]})
end
local text = table.concat(pieces, ',')
local evicted = math.max(0, #sizes - window_size)
if evicted > 0 then
  local cut = evicted -- the comma after each evicted entry
  for i = 1, evicted do
    cut = cut + sizes[i]
  end
  text = string.sub(text, cut + 1)
  sizes = {unpack(sizes, evicted + 1)}
end
local count = redis.call('HINCRBY', key, 'turn_count', #ids)
redis.call('HSET', key, 'turns', '[' .. text .. ']', 'turn_sizes', table.concat(sizes, ','))
version = session_touch(key, idx, thread, now, ttl, version)
return {1, version, evicted, count, unpack(ids)}
