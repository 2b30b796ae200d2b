-- Updates one long-term memory, atomically: converts it to a Hash if it is
-- a JSON document of schema 2 (`memory_upgrade`), checks its version, then
-- (for a new text) that it repeats no other memory of its scope, then
-- writes the changes and the next version.
--
-- KEYS[1] document: the memory's key
-- KEYS[2] probe: a key of the namespace that is never written: keeps the
--   script from running while a Redis Cluster moves the namespace's slot
--   (`store/memory_indexes.py`)
-- ARGV[1] index: the search index
-- ARGV[2] legacy_index: the index of schema 2's JSON documents, searched
--   too until the migration drops it ('' for none)
-- ARGV[3] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- ARGV[4] max_distance: the max dedup distance (0: exact text only)
-- ARGV[5] prefix: the namespace's memory key prefix
-- ARGV[6] expected_version: the version the memory must be at ('' for any)
-- ARGV[7] exact: the exact-text query of the new text ('' for no dedup)
-- ARGV[8] legacy_exact: the same of the legacy index
-- ARGV[9] knn: the KNN query of the new text ('' to skip the vector check)
-- ARGV[10] vector: the new embedding, a blob of the vector type: the KNN
--   query's parameter, and the memory's new vector in `field` ('' keeps it)
-- ARGV[11] field: the vector field `vector` is written to (`v`, or `v_<f>`
--   of a model moved to)
-- ARGV[12] other_field: another vector field to write ('' for none; the
--   other model's during a move)
-- ARGV[13] other_vector: the vector written there
-- ARGV[14] expire_ms: '' keeps the expiry, '0' removes it (and `e`), else
--   the PEXPIREAT time (and `e`)
-- ARGV[15] pinned: '' keeps the pin, '1' pins the memory, '0' unpins it
--   (`p` and the `pinned` flag of `f`, its other flags kept)
-- ARGV[16..] changes: (field, value) pairs of Hash fields to write, a value
--   '' removing the field; not the fields the script owns (`UPDATE_OWNED`,
--   the vector fields)
-- Returns {'mismatch', version} when the version is not the expected one
-- (0: the memory does not exist), {'missing'} when the memory does not
-- exist, {'duplicate', distance, memory} when the new text repeats that
-- memory (nothing written), else {'written', memory}. A memory is the list
-- of its `memory_document.READ_FIELDS` (`MEMORY_READ`), nil for an absent
-- field.
-- Bounded work: a conversion, four searches (two per index) and a write.
check_shape(2, 2, 15, 2, 1)
-- The fields the script writes itself: the version, the pin and the expiry
-- (and the vector fields).
local UPDATE_OWNED = {vr = true, p = true, f = true, e = true}
local key = KEYS[1]
local dedup = arg_dedup(1)
local expected = ARGV[6]
arg_optional_integer(6, 1)
local queries = {exact = ARGV[7], legacy_exact = ARGV[8], knn = ARGV[9]}
local vector = ARGV[10]
local vectors = vector_pairs(arg_vector_field(11), vector, arg_vector_field(12, true), ARGV[13])
local expire_ms = ARGV[14]
arg_optional_integer(14, 0)
local pinned = arg_choice(15, {[''] = true, ['0'] = true, ['1'] = true})
key_under(1, dedup.prefix)
for i = 16, #ARGV, 2 do
  if UPDATE_OWNED[ARGV[i]] or is_vector_field(ARGV[i]) or ARGV[i] == '' then
    bad_argument('ARGV[' .. i .. '] is not a field the caller may change: ' .. ARGV[i])
  end
end

memory_upgrade(key, dedup.vector_type)
local version, expected_ok = memory_expected(key, expected)
if not expected_ok then
  return {'mismatch', version}
end
if version == 0 then
  return {'missing'}
end
local duplicate, distance = memory_duplicate(dedup, key, queries, vector)
if duplicate then
  return {'duplicate', distance, memory_read(duplicate)}
end
local changes = {unpack(ARGV, 16)}
if vector ~= '' then
  for _, part in ipairs(vectors) do
    changes[#changes + 1] = part
  end
end
if pinned ~= '' then
  local on = pinned == '1'
  changes[#changes + 1] = 'p'
  changes[#changes + 1] = on and '1' or ''
  changes[#changes + 1] = 'f'
  changes[#changes + 1] = memory_flags(redis.call('HGET', key, 'f'), PINNED, on)
end
if expire_ms ~= '' then
  changes[#changes + 1] = 'e'
  changes[#changes + 1] = expire_ms == '0' and '' or expire_ms
end
changes[#changes + 1] = 'vr'
changes[#changes + 1] = tostring(version + 1)
memory_write(key, changes, expire_ms)
return {'written', memory_read(key)}
