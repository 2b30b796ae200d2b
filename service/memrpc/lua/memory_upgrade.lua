-- MemoryUpgrade: converts long-term memories from JSON documents of storage
-- schema 2 to Hashes (`memory_upgrade`: the migration's step,
-- store/migration.py), and reads fields of each. A key that is already a
-- Hash, or gone, is left as it is: a step repeated after a crash converts
-- nothing twice.
--
-- KEYS[1..] documents: the memories' keys, of one namespace
-- ARGV[1] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- ARGV[2..] fields: the Hash fields to read of each memory (none: only
--   convert)
-- Returns per key: {} when it is gone, else the values of `fields` (nil for
-- an absent field), or {'ok'} when no field was asked.
-- Bounded work: a conversion per key, and the caller sends at most
-- `MIGRATION_BATCH` keys per call (limits.py).
check_shape(1, nil, 1, 1, 0)
local vector_type = arg_vector_type(1)
local fields = {unpack(ARGV, 2)}
local results = {}
for i = 1, #KEYS do
  memory_upgrade(KEYS[i], vector_type)
  if redis.call('EXISTS', KEYS[i]) == 0 then
    results[i] = {}
  elseif #fields == 0 then
    results[i] = {'ok'}
  else
    results[i] = redis.call('HMGET', KEYS[i], unpack(fields))
  end
end
return results
