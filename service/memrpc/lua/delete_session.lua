-- DeleteSession: removes a session and its listing entries.
-- KEYS: [1] session Hash, [2] namespace listing index. ARGV: [1] thread id.
-- Returns 1 when the session existed, else 0.
local user_idx = redis.call('HGET', KEYS[1], 'user_idx')
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if user_idx and user_idx ~= '' then
  redis.call('ZREM', user_idx, ARGV[1])
end
return 1
