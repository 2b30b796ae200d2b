-- DeleteSession: removes a session and its listing entries, optionally only
-- at an expected version.
--
-- KEYS[1] session: the session Hash
-- KEYS[2] index: the namespace listing index
-- ARGV[1] thread: the thread id
-- ARGV[2] expected_version: the version the session must have, or '' for any
-- Returns {1} when the session was deleted, {0, version} when it was not:
-- version 0 when it did not exist, else its version, which is not the
-- expected one.
check_shape(2, 2, 2, 0, 0)
local thread = arg_present(1)
arg_optional_integer(2, 1)
local version, ok = session_version(KEYS[1], ARGV[2])
if version == 0 or not ok then
  return {0, version}
end
local user_idx = redis.call('HGET', KEYS[1], 'user_idx')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], thread)
if user_idx and user_idx ~= '' then
  redis.call('ZREM', user_idx, thread)
end
return {1}
