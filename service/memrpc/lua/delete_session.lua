-- DeleteSession: removes a session and its listing entries.
--
-- KEYS[1] session: the session Hash
-- KEYS[2] index: the namespace listing index
-- ARGV[1] thread: the thread id
-- Returns 1 when the session existed, else 0.
check_shape(2, 2, 1, 0, 0)
local thread = arg_present(1)
local user_idx = redis.call('HGET', KEYS[1], 'user_idx')
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], thread)
if user_idx and user_idx ~= '' then
  redis.call('ZREM', user_idx, thread)
end
return 1
