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
-- KEYS[3..] documents: the new memory of each item (a Hash; none for a skip)
-- ARGV[1] create_ms: the session's `create_ms` when the chunk was read
-- ARGV[2] formed_through: its `formed_through` when the chunk was read
-- ARGV[3] through: the new `formed_through`: the chunk's last event id
-- ARGV[4] turns: how many turns the memories record (0: none, only skipped)
-- ARGV[5] skipped: how many turns before the chunk were trimmed from the log
-- ARGV[6] index: the search index
-- ARGV[7] legacy_index: the index of schema 2's JSON documents, searched
--   too until the migration drops it ('' for none)
-- ARGV[8] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- ARGV[9] max_distance: the max dedup distance (0: exact text only)
-- ARGV[10] prefix: the namespace's memory key prefix
-- ARGV[11..] items: one per document, as `dedup_insert.lua` reads them
--   (`arg_item`); at least one with turns, none without
-- Returns {0} when the session changed (nothing written), else {1, then per
-- item '' when its memory was written, or the memory it repeats (the list
-- of its `memory_document.READ_FIELDS`, after its hit; converted to a Hash
-- first if it was a JSON document of schema 2)}.
-- Bounded work: four searches (two per index) and a write per item, and the
-- caller sends at most 1 + `LLM_MAX_FACTS` items (store/formation.py).
check_shape(2, nil, 10, ITEM_ARGS, 0)
local key, sequence = KEYS[1], KEYS[2]
local items = #KEYS - 2
if #ARGV - 10 ~= ITEM_ARGS * items then
  bad_argument('expected ' .. items .. ' items, not the ' .. #ARGV .. ' arguments given')
end
arg_integer(1, 0)
arg_present(2)
arg_present(3)
local turns, skipped = arg_integer(4, 0), arg_integer(5, 0)
local dedup = arg_dedup(6)
if turns + skipped == 0 then
  bad_argument('a formation covers at least one turn')
end
if (turns == 0) ~= (items == 0) then
  bad_argument('a formation of turns writes at least one memory, a skip none')
end
-- Item j (KEYS[j + 2]) is the ITEM_ARGS arguments from
-- ARGV[11 + ITEM_ARGS * (j - 1)], checked.
local checked = {}
for j = 1, items do
  key_under(j + 2, dedup.prefix)
  checked[j] = arg_item(11 + ITEM_ARGS * (j - 1))
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
  local duplicate = memory_insert(dedup, sequence, KEYS[j + 2], checked[j])
  results[j + 1] = duplicate and memory_read(duplicate) or ''
end
return results
