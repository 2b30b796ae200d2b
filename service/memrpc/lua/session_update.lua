-- UpdateSession: sets or clears session fields atomically.
-- KEYS: [1] session Hash, [2] namespace listing index.
-- ARGV: [1] thread id, [2] now (ms), [3] ttl (ms), [4] expected version or '',
--       [5] '1' to set the user, [6] user id, [7] that user's listing index
--       ('' for no user), [8..] field, value pairs (goal, scratchpad,
--       metadata, turns) to write.
-- Returns {0, version} on a version mismatch, else {1, HGETALL...}.
local key, idx, thread = KEYS[1], KEYS[2], ARGV[1]
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local version, ok = session_version(key, ARGV[4])
if not ok then
  return {0, version}
end
if ARGV[5] == '1' then
  session_set_user(key, thread, ARGV[6], ARGV[7])
end
if #ARGV >= 9 then
  redis.call('HSET', key, unpack(ARGV, 8))
end
session_touch(key, idx, thread, now, ttl, version)
return {1, redis.call('HGETALL', key)}
