-- Deletes up to one batch of the memories a query matches, atomically: those
-- of the index first, then, while the batch has room, the JSON documents of
-- schema 2 that the legacy index holds until the migration drops it.
--
-- KEYS[1] prefix: the namespace's memory key prefix: routes the script to the
--   namespace's slot, and only keys under it are deleted. Never read.
-- KEYS[2] probe: a key of the namespace that is never written: with the
--   prefix, keeps the script from running while a Redis Cluster moves the
--   namespace's slot (`store/memory_indexes.py`)
-- ARGV[1] index: the search index
-- ARGV[2] legacy_index: the index of schema 2's JSON documents ('' for none;
--   a legacy index that is gone matches nothing)
-- ARGV[3] query: the query of the memories to delete (in either index)
-- ARGV[4] batch_size: how many of them to delete at most
-- Returns {how many memories matched (at most the batch size), how many of
-- them were deleted}.
-- Bounded work: at most the batch size (`DELETE_BATCH`, store/long_term.py)
-- deletions per call; the caller repeats the call for more.
check_shape(2, 2, 4, 0, 0)
local prefix = KEYS[1]
local index, legacy_index = arg_present(1), ARGV[2]
local query, batch_size = arg_present(3), arg_integer(4, 1)
if prefix == '' then
  bad_argument('KEYS[1] must not be empty')
end
local matched, deleted = 0, 0
-- Deletes the matches of `index` (`legacy`: the legacy one), up to the batch.
local function delete_matches(index, legacy)
  local found = memory_search(index, legacy, query,
    {'NOCONTENT', 'LIMIT', 0, batch_size - matched, 'DIALECT', 2})
  for i = 2, #(found or {}) do
    matched = matched + 1
    if string.sub(found[i], 1, #prefix) == prefix then
      deleted = deleted + redis.call('DEL', found[i])
    end
  end
end
delete_matches(index, false)
if matched < batch_size then
  delete_matches(legacy_index, true)
end
return {matched, deleted}
