-- Records searches that returned long-term memories: for each memory that
-- still exists, adds to its access count and moves its last access (and
-- `$.recalled_ms`, the index's `recalled`) forward, never back. Leaves its
-- version, update time and expiry as they are, and never recreates a
-- memory deleted (or expired) since the searches.
--
-- KEYS[1..] documents: the memories' documents, of one namespace
-- ARGV[1] prefix: the namespace's memory key prefix
-- ARGV[2..] accesses: per document, in order, how many searches returned it
--   (at least 1) and when the last did (ms since the epoch)
-- Returns how many of the memories existed and were written.
-- Bounded work: a read and a write (which Redis Search indexes again) per
-- memory, and the caller sends at most `ACCESS_FLUSH_BATCH` memories per
-- call (limits.py).
check_shape(1, nil, 1, 2, 1)
local prefix = arg_present(1)
if #KEYS ~= (#ARGV - 1) / 2 then
  bad_argument('expected ' .. #KEYS .. ' accesses, not the ' .. #ARGV .. ' arguments given')
end
for i = 1, #KEYS do
  key_under(i, prefix)
  arg_integer(2 * i, 1)
  arg_integer(2 * i + 1, 0)
end

local COUNT, LAST, RECALLED = '$.memory.access_count', '$.memory.last_access_ms', '$.recalled_ms'
local written = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  local found = redis.call('JSON.GET', key, COUNT, LAST, RECALLED)
  if found then
    -- A path a document lacks (written before access counts) reads as [].
    local values = cjson.decode(found)
    local at = tonumber(ARGV[2 * i + 1])
    local count = (values[COUNT][1] or 0) + tonumber(ARGV[2 * i])
    -- One JSON.MERGE: one index update of the document (a JSON.MSET of the
    -- three paths measured 1.7 ms against 0.7 ms).
    redis.call('JSON.MERGE', key, '$', string.format(
      '{"memory":{"access_count":%.0f,"last_access_ms":%.0f},"recalled_ms":%.0f}',
      count, math.max(values[LAST][1] or 0, at), math.max(values[RECALLED][1] or 0, at)))
    written = written + 1
  end
end
return written
