-- ReembedCleanup: removes the old model's vectors of memories of one
-- namespace after a move ended (store/reembed.py): the Hash field, and so
-- the memory's entry in that model's HNSW. JSON documents of storage
-- schema 2 and keys gone are left as they are.
--
-- KEYS[1..] documents: memory keys of one namespace (a search's)
-- ARGV[1] prefix: the namespace's memory key prefix
-- ARGV[2] field: the Hash field of the old model's vectors
-- Returns how many vectors it removed.
-- Bounded work: an HDEL per key, and the caller sends at most
-- `REEMBED_BATCH` keys (limits.py).
check_shape(1, nil, 2, 0, 0)
local prefix, field = arg_present(1), arg_present(2)
for i = 1, #KEYS do
  key_under(i, prefix)
end
local removed = 0
for i = 1, #KEYS do
  if redis.call('TYPE', KEYS[i]).ok == 'hash' then
    removed = removed + redis.call('HDEL', KEYS[i], field)
  end
end
return removed
