-- Deletes up to one batch of the memories a query matches, atomically.
--
-- KEYS[1]: the namespace's memory key prefix: routes the script to the
-- namespace's slot, and only keys under it are deleted. Never read.
-- ARGV: the index, the query, the batch size.
-- Returns {how many memories matched (at most the batch size), how many of
-- them were deleted}.
-- Bounded work: at most the batch size (`DELETE_BATCH`, store/long_term.py)
-- deletions per call; the caller repeats the call for more.
local prefix = KEYS[1]
local found = redis.call('FT.SEARCH', ARGV[1], ARGV[2], 'NOCONTENT', 'LIMIT', 0, ARGV[3],
  'DIALECT', 2)
local deleted = 0
for i = 2, #found do
  if string.sub(found[i], 1, #prefix) == prefix then
    deleted = deleted + redis.call('DEL', found[i])
  end
end
return {#found - 1, deleted}
