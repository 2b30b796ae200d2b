-- MemoryForm: forms one memory from a chunk of turns that left a session's
-- window, only if the session is still the one the chunk was read from (the
-- same `create_ms`), nobody formed since (the same `formed_through`), and the
-- chunk covers no more turns than have left the window and are not formed
-- yet; so a turn is formed at most once, whatever the job's deliveries,
-- races and crashes. The memory goes through the same deduplication as
-- `CreateMemories` (`memory_insert`): a repeated episode gains a hit. A
-- formation changes neither the session's `version` nor its time to live.
--
-- KEYS[1] session: the session Hash
-- KEYS[2] document: the new memory's document
-- ARGV[1] create_ms: the session's `create_ms` when the chunk was read
-- ARGV[2] formed_through: its `formed_through` when the chunk was read
-- ARGV[3] through: the new `formed_through`: the chunk's last event id
-- ARGV[4] turns: how many turns the memory records (0: none, only skipped)
-- ARGV[5] skipped: how many turns before the chunk were trimmed from the log
-- ARGV[6] index: the search index
-- ARGV[7] max_distance: the max dedup distance (0: exact text only)
-- ARGV[8] prefix: the namespace's memory key prefix
-- ARGV[9..] item: one item, as `dedup_insert.lua` reads it: exact query,
--   KNN query, vector, expire ms, document (JSON)
-- Returns {0} when the session changed (nothing written), {1} when the
-- memory was written (or only skipped turns counted), {2, memory} when it
-- repeats `memory` (the JSON of its `$.memory`, after its hit).
check_shape(2, 2, 8, 5, 1)
if #ARGV ~= 13 then
  bad_argument('expected one item, not ' .. (#ARGV - 8) / 5)
end
local key, document = KEYS[1], KEYS[2]
arg_integer(1, 0)
arg_present(2)
arg_present(3)
local turns, skipped = arg_integer(4, 0), arg_integer(5, 0)
local index, max_distance, prefix = arg_present(6), arg_number(7, 0, 2), arg_present(8)
arg_optional_integer(12, 0)
if turns + skipped == 0 then
  bad_argument('a formation covers at least one turn')
end
if string.sub(document, 1, #prefix) ~= prefix then
  bad_argument('KEYS[2] is not under the prefix')
end

local stored = redis.call('HMGET', key, 'create_ms', 'formed_through', 'evicted_count',
  'formed_turns', 'formed_skipped')
local pending = (tonumber(stored[3]) or 0) - (tonumber(stored[4]) or 0)
  - (tonumber(stored[5]) or 0)
if stored[1] ~= ARGV[1] or stored[2] ~= ARGV[2] or turns + skipped > pending then
  return {0}
end
redis.call('HSET', key, 'formed_through', ARGV[3])
if skipped > 0 then
  redis.call('HINCRBY', key, 'formed_skipped', skipped)
end
if turns == 0 then
  return {1}
end
redis.call('HINCRBY', key, 'formed_turns', turns)
local duplicate = memory_insert(index, prefix, max_distance, document, unpack(ARGV, 9, 13))
if duplicate then
  return {2, memory_json(duplicate)}
end
return {1}
