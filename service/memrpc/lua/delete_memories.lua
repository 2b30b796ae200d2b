-- Deletes up to one batch of the memories a query matches, atomically.
--
-- KEYS[1] prefix: the namespace's memory key prefix: routes the script to the
--   namespace's slot, and only keys under it are deleted. Never read.
-- ARGV[1] index: the search index
-- ARGV[2] query: the query of the memories to delete
-- ARGV[3] batch_size: how many of them to delete at most
-- Returns {how many memories matched (at most the batch size), how many of
-- them were deleted}.
-- Bounded work: at most the batch size (`DELETE_BATCH`, store/long_term.py)
-- deletions per call; the caller repeats the call for more.
check_shape(1, 1, 3, 0, 0)
local prefix = KEYS[1]
local index, query, batch_size = arg_present(1), arg_present(2), arg_integer(3, 1)
if prefix == '' then
  bad_argument('KEYS[1] must not be empty')
end
local found = redis.call('FT.SEARCH', index, query, 'NOCONTENT', 'LIMIT', 0, batch_size,
  'DIALECT', 2)
local deleted = 0
for i = 2, #found do
  if string.sub(found[i], 1, #prefix) == prefix then
    deleted = deleted + redis.call('DEL', found[i])
  end
end
return {#found - 1, deleted}
