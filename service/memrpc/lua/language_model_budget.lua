-- LanguageModelBudget: takes one call from a namespace's budget of calls to
-- the language model in the current window (a minute), unless the window's
-- calls are spent; a refused call takes nothing. The window's counter
-- expires after the window, so a namespace's budget costs at most two keys.
--
-- KEYS[1] counter: the counter of the namespace's current window (a String)
-- ARGV[1] limit: the most calls of a window
-- ARGV[2] ttl_ms: how long a new counter lives
-- Returns 1 when the call was taken, 0 when the window's calls are spent.
check_shape(1, 1, 2, 0, 0)
local limit, ttl_ms = arg_integer(1, 1), arg_integer(2, 1)
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= limit then
  return 0
end
redis.call('INCR', KEYS[1])
if used == 0 then
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
end
return 1
