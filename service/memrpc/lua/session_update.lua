-- UpdateSession: sets or clears session fields atomically.
--
-- KEYS[1] session: the session Hash
-- KEYS[2] index: the namespace listing index
-- ARGV[1] thread: the thread id
-- ARGV[2] now_ms: now (ms)
-- ARGV[3] ttl_ms: the session's time to live (ms)
-- ARGV[4] expected_version: the version the session must have, or '' for any
-- ARGV[5] set_user: '1' to set the user, '0' to keep it
-- ARGV[6] user: the user id to set
-- ARGV[7] user_index: that user's listing index ('' for no user)
-- ARGV[8..] fields: field, value pairs to write (goal, scratchpad, metadata,
--   and turns with turn_sizes to clear the window)
-- Returns {0, version} on a version mismatch, else {1, HGETALL...}.
check_shape(2, 2, 7, 2, 0)
local key, idx = KEYS[1], KEYS[2]
local thread = arg_present(1)
local now, ttl = arg_integer(2, 0), arg_integer(3, 1)
arg_optional_integer(4, 0)
arg_choice(5, {['0'] = true, ['1'] = true})
local WRITABLE = {goal = true, scratchpad = true, metadata = true, turns = true, turn_sizes = true}
for i = 8, #ARGV, 2 do
  arg_choice(i, WRITABLE)
end

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
