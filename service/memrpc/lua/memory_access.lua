-- Records searches that returned long-term memories: for each memory that
-- still exists, adds to its access count (`ac`) and moves its last access
-- (`la`) and last recall (`r`, the index's `recalled`) forward, never back.
-- Leaves its version, update time and expiry as they are, and never
-- recreates a memory deleted (or expired) since the searches. A memory
-- still a JSON document of schema 2 is converted to a Hash first
-- (`memory_upgrade`).
--
-- KEYS[1..] documents: the memories' keys, of one namespace
-- ARGV[1] prefix: the namespace's memory key prefix
-- ARGV[2] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- ARGV[3..] accesses: per document, in order, how many searches returned it
--   (at least 1) and when the last did (ms since the epoch)
-- Returns how many of the memories existed and were written.
-- Bounded work: a read and a write (one HSET, which Redis Search indexes
-- again) per memory, and the caller sends at most `ACCESS_FLUSH_BATCH`
-- memories per call (limits.py).
check_shape(1, nil, 2, 2, 1)
local prefix, vector_type = arg_present(1), arg_vector_type(2)
if #KEYS ~= (#ARGV - 2) / 2 then
  bad_argument('expected ' .. #KEYS .. ' accesses, not the ' .. #ARGV .. ' arguments given')
end
-- Document i is KEYS[i], its count ARGV[2i + 1], its last time ARGV[2i + 2].
for i = 1, #KEYS do
  key_under(i, prefix)
  arg_integer(2 * i + 1, 1)
  arg_integer(2 * i + 2, 0)
end

local written = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  memory_upgrade(key, vector_type)
  local found = memory_get(key, {'ac', 'la', 'r'})
  if found then
    local at = tonumber(ARGV[2 * i + 2])
    redis.call('HSET', key,
      'ac', string.format('%.0f', (tonumber(found.ac) or 0) + tonumber(ARGV[2 * i + 1])),
      'la', string.format('%.0f', math.max(tonumber(found.la) or 0, at)),
      'r', string.format('%.0f', math.max(tonumber(found.r) or 0, at)))
    written = written + 1
  end
end
return written
