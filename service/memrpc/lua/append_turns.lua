-- AppendTurns: appends turns to the window, evicting the oldest beyond its
-- size, and records every turn in the thread's event log, atomically.
-- KEYS: [1] session Hash, [2] namespace listing index, [3] the thread's
--       event Stream, [4] the namespace feed Stream.
-- ARGV: [1] thread id, [2] now (ms), [3] ttl (ms), [4] expected version or '',
--       [5] window size, [6] event log MAXLEN, [7] feed MAXLEN, [8] user id
--       for a new session, [9] that user's listing index ('' for no user),
--       then per turn: its window entry (JSON) and its event payload (JSON).
-- Returns {0, version} on a version mismatch, else
-- {1, version, evicted, turn_count, event ids...}.
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

local stored = redis.call('HGET', key, 'turns')
local window = {}
if stored and stored ~= '' then
  window = cjson.decode(stored)
end
local ids = {}
for i = 10, #ARGV, 2 do
  window[#window + 1] = cjson.decode(ARGV[i])
  ids[#ids + 1] = append_event(stream, feed, ARGV[6], ARGV[7], thread,
    {'type', 'memrpc.turn', 'json', ARGV[i + 1]})
end
local evicted = math.max(0, #window - window_size)
local kept = {}
for i = evicted + 1, #window do
  kept[#kept + 1] = window[i]
end
local count = redis.call('HINCRBY', key, 'turn_count', #ids)
redis.call('HSET', key, 'turns', cjson.encode(kept))
version = session_touch(key, idx, thread, now, ttl, version)
return {1, version, evicted, count, unpack(ids)}
