-- Deletes one long-term memory, if it is at the expected version: the check
-- and the deletion in one step.
--
-- KEYS[1] document: the memory's document
-- ARGV[1] expected_version: the version the memory must be at ('' for any)
-- Returns {version, deleted}: the memory's version (0: it does not exist)
-- and 1 when it was deleted, 0 when not (missing, or at another version).
check_shape(1, 1, 1, 0, 0)
local key = KEYS[1]
arg_optional_integer(1, 1)
local version, expected_ok = memory_expected(key, ARGV[1])
if version == 0 or not expected_ok then
  return {version, 0}
end
return {version, redis.call('DEL', key)}
