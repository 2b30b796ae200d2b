-- Appends the events of one request to a thread's log and to its namespace
-- feed, atomically: all of them or none (the first XADD is the first write,
-- so a refusal such as OOM happens before anything is written). With a
-- request key, it runs once: a repeat returns the first append's ids (see
-- lib/request_ids.lua).
--
-- KEYS[1] stream: the thread's stream
-- KEYS[2] feed: the namespace feed
-- KEYS[3..] request: only with a request id, the String remembering that
--   request
-- ARGV[1] max_len: the thread log's MAXLEN
-- ARGV[2] feed_max_len: the feed's MAXLEN
-- ARGV[3] thread: the thread id
-- ARGV[4] fingerprint: the request's fingerprint (ignored without KEYS[3])
-- ARGV[5] remember_ms: how long to remember the request (ms; ignored
--   without KEYS[3])
-- ARGV[6..] events: per event, the number of its stream fields followed by
--   those fields (`type` and its value first; see lib/events.lua)
-- Returns {REQUEST_DONE, ids} for an append, {REQUEST_REPLAYED, ids} for a
-- repeat of the same request, {REQUEST_REUSED} for a repeated request id
-- with other events; ids are the events' ids in the thread's log, in request
-- order.
-- Bounded work: two XADDs per event, at most the batch limit
-- (`Limits.max_batch_items`, memrpc/limits.py) events per request.
check_shape(2, 3, 5, 1, 1)
local max_len, feed_max_len = arg_integer(1, 1), arg_integer(2, 1)
local thread, fingerprint, remember_ms = arg_present(3), ARGV[4], arg_integer(5, 0)
local request = KEYS[3]
request_check(request, fingerprint, remember_ms)
-- Every event is well-formed before the first is appended.
local at = 6
while at <= #ARGV do
  local n = arg_integer(at, 2, #ARGV - at)
  if n % 2 ~= 0 or ARGV[at + 1] ~= 'type' then
    bad_argument('ARGV[' .. at .. '] must count an even number of fields, type first')
  end
  at = at + n + 1
end
local earlier, first_ids = request_recall(request, fingerprint)
if earlier then
  return {earlier, first_ids}
end
local ids = {}
local i = 6
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local fields = {unpack(ARGV, i + 1, i + n)}
  ids[#ids + 1] = append_event(KEYS[1], KEYS[2], max_len, feed_max_len, thread, fields)
  i = i + n + 1
end
request_remember(request, fingerprint, remember_ms, ids)
return {REQUEST_DONE, ids}
