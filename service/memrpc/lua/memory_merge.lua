-- MemoryMerge: merges one long-term memory (the loser) into a near
-- duplicate of its scope (the survivor), a step of the consolidation job
-- (store/consolidation.py): only if both still exist at the versions read,
-- neither is superseded, and the loser is not pinned. The survivor gains the
-- loser's hit and access counts (`h`, `ac`), its id then its merged ids
-- (appended to the JSON list `mg`), and the later of their last accesses
-- (`la`) and recalls (`r`); its version and update time stay as they are (a
-- merge is like a dedup hit). The loser is deleted, and an event appended to
-- the namespace's changes thread. Either memory, if a JSON document of
-- schema 2, is converted to a Hash first (`memory_upgrade`). Bounded: a
-- conversion and a read per memory, one write, one DEL, two XADDs.
--
-- KEYS[1] survivor: the surviving memory's key
-- KEYS[2] loser: the merged memory's key, deleted
-- KEYS[3] stream: the changes thread's log
-- KEYS[4] feed: the namespace feed
-- ARGV[1] survivor_version: the survivor's version when read
-- ARGV[2] loser_version: the loser's version when read
-- ARGV[3] distance: the cosine distance between them
-- ARGV[4] thread: the changes thread's id
-- ARGV[5] event_type: the event's type (`memrpc.memory_merged`)
-- ARGV[6] log_max_len: the thread log's MAXLEN
-- ARGV[7] feed_max_len: the feed's MAXLEN
-- ARGV[8] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- Returns {0} when either memory changed (nothing written), {1, hit_count}
-- when merged, with the survivor's new hit count.
check_shape(4, 4, 8, 0, 0)
local survivor, loser = KEYS[1], KEYS[2]
arg_integer(1, 1)
arg_integer(2, 1)
local distance = arg_number(3, 0, 2)
local thread, event_type = arg_present(4), arg_present(5)
local log_max_len, feed_max_len = arg_integer(6, 1), arg_integer(7, 1)
local vector_type = arg_vector_type(8)
if survivor == loser then
  bad_argument('a memory cannot merge into itself')
end

local FIELDS = {'u', 'k', 't', 'h', 'ac', 'la', 'r', 'mg', 'p'}
local kept = memory_current(survivor, ARGV[1], vector_type, FIELDS)
local gone = memory_current(loser, ARGV[2], vector_type, FIELDS)
if not kept or not gone or gone.p then
  return {0}
end

-- The larger of two counts or times of the memories (absent: 0).
local function later(field)
  return math.max(tonumber(kept[field]) or 0, tonumber(gone[field]) or 0)
end

local ids = cjson.decode(kept.mg or '[]')
ids[#ids + 1] = gone.id
for _, id in ipairs(cjson.decode(gone.mg or '[]')) do
  ids[#ids + 1] = id
end
local hits = tonumber(kept.h) + tonumber(gone.h)
local accesses = (tonumber(kept.ac) or 0) + (tonumber(gone.ac) or 0)
local last_access, last_recalled = later('la'), later('r')
memory_write(survivor, {
  'h', string.format('%d', hits),
  'ac', accesses > 0 and string.format('%d', accesses) or '',
  'la', last_access > 0 and string.format('%d', last_access) or '',
  'mg', cjson.encode(ids),
  'r', last_recalled > 0 and string.format('%d', last_recalled) or '',
}, '')
redis.call('DEL', loser)
local event = cjson.encode({memory_id = kept.id, merged_memory_id = gone.id,
  user_id = unhex(kept.u), kind = unhex(kept.k), distance = distance, merged_text = gone.t,
  hit_count = hits})
append_event(KEYS[3], KEYS[4], log_max_len, feed_max_len, thread,
  {'type', event_type, 'json', event})
return {1, hits}
