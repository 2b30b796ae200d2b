-- Updates one long-term memory, atomically: checks its version, then (for a
-- new text) that it repeats no other memory of its scope, then writes the
-- changes and the next version.
--
-- KEYS[1] document: the memory's document
-- ARGV[1] index: the search index
-- ARGV[2] max_distance: the max dedup distance (0: exact text only)
-- ARGV[3] prefix: the namespace's memory key prefix
-- ARGV[4] expected_version: the version the memory must be at ('' for any)
-- ARGV[5] exact: the exact-text query of the new text ('' for no dedup)
-- ARGV[6] knn: the KNN query of the new text ('' to skip the vector check)
-- ARGV[7] vector: the new embedding, as the KNN query's parameter
-- ARGV[8] expire_ms: '' keeps the expiry, '0' removes it, else the
--   PEXPIREAT time
-- ARGV[9] pinned: '' keeps the pin, '1' pins the memory, '0' unpins it
--   (`$.memory.pinned` and the `pinned` flag of `$.tags.flags`, its other
--   flags kept)
-- ARGV[10..] changes: (JSON path, JSON value) pairs to write
-- Returns {'mismatch', version} when the version is not the expected one
-- (0: the memory does not exist), {'missing'} when the memory does not
-- exist, {'duplicate', distance, memory} when the new text repeats that
-- memory (nothing written), else {'written', memory}. A memory is the JSON
-- of a document's `$.memory` path.
-- Bounded work: two searches and a write.
check_shape(1, 1, 9, 2, 1)
local key = KEYS[1]
local index, max_distance, prefix = arg_present(1), arg_number(2, 0, 2), arg_present(3)
local expected = ARGV[4]
arg_optional_integer(4, 1)
local exact, knn, vector = ARGV[5], ARGV[6], ARGV[7]
local expire_ms = ARGV[8]
arg_optional_integer(8, 0)
local pinned = arg_choice(9, {[''] = true, ['0'] = true, ['1'] = true})
key_under(1, prefix)
local version, expected_ok = memory_expected(key, expected)
if not expected_ok then
  return {'mismatch', version}
end
if version == 0 then
  return {'missing'}
end
local duplicate, distance = memory_duplicate(index, prefix, max_distance, key, exact, knn, vector)
if duplicate then
  return {'duplicate', distance, memory_json(duplicate)}
end
local changes = {unpack(ARGV, 10)}
if pinned ~= '' then
  local on = pinned == '1'
  changes[#changes + 1] = '$.memory.pinned'
  changes[#changes + 1] = tostring(on)
  changes[#changes + 1] = '$.tags.flags'
  changes[#changes + 1] = memory_flags(key, 'pinned', on)
end
changes[#changes + 1] = '$.memory.version'
changes[#changes + 1] = tostring(version + 1)
memory_write(key, changes, expire_ms)
return {'written', memory_json(key)}
