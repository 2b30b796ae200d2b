-- MemoryForm: forms the memories of a chunk of turns that left a session's
-- window (its episodic memory, and the facts a language model extracted
-- from it), only if the session is still the one the chunk was read from
-- (the same `create_ms`), nobody formed since (the same `formed_through`),
-- and the chunk covers no more turns than have left the window and are not
-- formed yet; so a turn is formed at most once, whatever the job's
-- deliveries, races and crashes, and a chunk's memories are written all
-- together or not at all. Each memory goes through the same deduplication as
-- `CreateMemories` (`memory_insert`), seeing those written before it: a
-- repeated episode or fact gains a hit. A formation changes neither the
-- session's `version` nor its time to live.
--
-- KEYS[1] session: the session Hash
-- KEYS[2] sequence: the namespace's counter of written memories
-- KEYS[3..] documents: the new document of each memory (none for a skip)
-- ARGV[1] create_ms: the session's `create_ms` when the chunk was read
-- ARGV[2] formed_through: its `formed_through` when the chunk was read
-- ARGV[3] through: the new `formed_through`: the chunk's last event id
-- ARGV[4] turns: how many turns the memories record (0: none, only skipped)
-- ARGV[5] skipped: how many turns before the chunk were trimmed from the log
-- ARGV[6] index: the search index
-- ARGV[7] max_distance: the max dedup distance (0: exact text only)
-- ARGV[8] prefix: the namespace's memory key prefix
-- ARGV[9..] items: one per document, as `dedup_insert.lua` reads them: exact
--   query, KNN query, vector, expire ms, document (JSON); at least one with
--   turns, none without
-- Returns {0} when the session changed (nothing written), else {1, then per
-- item '' when its memory was written, or the memory it repeats (the JSON
-- of its `$.memory`, after its hit)}.
-- Bounded work: two searches and a write per item, and the caller sends at
-- most 1 + `LLM_MAX_FACTS` items (store/formation.py).
check_shape(2, nil, 8, 5, 0)
local key, sequence = KEYS[1], KEYS[2]
local items = #KEYS - 2
if #ARGV - 8 ~= 5 * items then
  bad_argument('expected ' .. items .. ' items, not the ' .. #ARGV .. ' arguments given')
end
arg_integer(1, 0)
arg_present(2)
arg_present(3)
local turns, skipped = arg_integer(4, 0), arg_integer(5, 0)
local index, max_distance, prefix = arg_present(6), arg_number(7, 0, 2), arg_present(8)
if turns + skipped == 0 then
  bad_argument('a formation covers at least one turn')
end
if (turns == 0) ~= (items == 0) then
  bad_argument('a formation of turns writes at least one memory, a skip none')
end
-- Item j (KEYS[j + 2]) is ARGV[5j + 4 .. 5j + 8]: its expire ms and document checked.
for j = 1, items do
  key_under(j + 2, prefix)
  arg_optional_integer(5 * j + 7, 0)
  arg_present(5 * j + 8)
end

if not session_cursor_holds(key, ARGV[1], 'formed_through', ARGV[2], 'formed_turns',
    'formed_skipped', turns + skipped) then
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
local results = {1}
for j = 1, items do
  local duplicate = memory_insert(index, prefix, max_distance, sequence, KEYS[j + 2],
    unpack(ARGV, 5 * j + 4, 5 * j + 8))
  results[j + 1] = duplicate and memory_json(duplicate) or ''
end
return results
