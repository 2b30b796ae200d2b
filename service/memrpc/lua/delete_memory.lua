-- Deletes one long-term memory, if it is at the expected version: the check
-- and the deletion in one step. A memory still a JSON document of schema 2
-- is converted to a Hash first (`memory_upgrade`), whose version is checked.
--
-- KEYS[1] document: the memory's key
-- ARGV[1] expected_version: the version the memory must be at ('' for any)
-- ARGV[2] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- Returns {version, deleted}: the memory's version (0: it does not exist)
-- and 1 when it was deleted, 0 when not (missing, or at another version).
check_shape(1, 1, 2, 0, 0)
local key = KEYS[1]
arg_optional_integer(1, 1)
memory_upgrade(key, arg_vector_type(2))
local version, expected_ok = memory_expected(key, ARGV[1])
if version == 0 or not expected_ok then
  return {version, 0}
end
return {version, redis.call('DEL', key)}
