-- ReembedWrite: writes the vectors a step of the re-embed job
-- (store/reembed.py) made of memories' texts, each only where the memory
-- still exists as a Hash, still lacks the field, and its text hash is the
-- one the step read: a memory deleted, or updated (which writes its own
-- vectors) since is left as it is.
--
-- KEYS[1..] documents: the memories' keys, of one namespace
-- ARGV[1] prefix: the namespace's memory key prefix
-- ARGV[2] field: the Hash field of the new model's vectors
-- ARGV[3..] items: per key, the text hash read and the vector (a blob of
--   the index's vector type)
-- Returns how many vectors it wrote.
-- Bounded work: a Hash write and its HNSW insert per key, and the caller
-- sends at most `REEMBED_BATCH` keys (limits.py).
check_shape(1, nil, 2, 2, 1)
local prefix, field = arg_present(1), arg_present(2)
if (#ARGV - 2) / 2 ~= #KEYS then
  bad_argument('expected ' .. #KEYS .. ' items, not the ' .. #ARGV .. ' arguments given')
end
for i = 1, #KEYS do
  key_under(i, prefix)
  arg_present(2 + 2 * i)
end
local written = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  if redis.call('TYPE', key).ok == 'hash' and redis.call('HEXISTS', key, field) == 0
      and redis.call('HGET', key, 'x') == ARGV[1 + 2 * i] then
    redis.call('HSET', key, field, ARGV[2 + 2 * i])
    written = written + 1
  end
end
return written
