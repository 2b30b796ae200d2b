-- Appends the events of one request to a thread's log and to its namespace
-- feed, atomically: all of them or none (the first XADD is the first write,
-- so a refusal such as OOM happens before anything is written). With a
-- request key, it runs once: a repeat returns the first append's ids.
--
-- KEYS[1]: the thread's stream. KEYS[2]: the namespace feed. KEYS[3], only
-- with a request id: the String remembering that request.
-- ARGV: max_len, feed_max_len, thread id, the request's fingerprint and how
-- long to remember it (ms; both ignored without KEYS[3]), then for each event
-- the number of its stream fields followed by those fields (see
-- lib/events.lua).
-- Returns {1, ids} for an append, {2, ids} for a repeat of the same request,
-- {0} for a repeated request id with other events; ids are the events' ids in
-- the thread's log, in request order.
-- Bounded work: two XADDs per event, at most the batch limit
-- (`Limits.max_batch_items`, memrpc/limits.py) events per request.
local max_len, feed_max_len, thread = ARGV[1], ARGV[2], ARGV[3]
local fingerprint, remember_ms = ARGV[4], ARGV[5]
local request = KEYS[3]
if request then
  local earlier = redis.call('GET', request)
  if earlier then
    local first = cjson.decode(earlier)
    if first[1] ~= fingerprint then
      return {0}
    end
    return {2, first[2]}
  end
end
local ids = {}
local i = 6
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local fields = {unpack(ARGV, i + 1, i + n)}
  ids[#ids + 1] = append_event(KEYS[1], KEYS[2], max_len, feed_max_len, thread, fields)
  i = i + n + 1
end
if request then
  redis.call('SET', request, cjson.encode({fingerprint, ids}), 'PX', remember_ms)
end
return {1, ids}
