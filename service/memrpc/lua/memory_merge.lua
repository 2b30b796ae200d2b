-- MemoryMerge: merges one long-term memory (the loser) into a near
-- duplicate of its scope (the survivor), a step of the consolidation job
-- (store/consolidation.py): only if both still exist at the versions read,
-- neither is superseded, and the loser is not pinned. The survivor gains the
-- loser's hit and access counts, its id then its merged ids (appended to
-- `merged_ids`), and the later of their `last_access_ms` and `recalled_ms`;
-- its version and update time stay as they are (a merge is like a dedup
-- hit). The loser is deleted, and an event appended to the namespace's
-- changes thread. Bounded: two reads and one write per memory, one DEL,
-- two XADDs.
--
-- KEYS[1] survivor: the surviving memory's document
-- KEYS[2] loser: the merged memory's document, deleted
-- KEYS[3] stream: the changes thread's log
-- KEYS[4] feed: the namespace feed
-- ARGV[1] survivor_version: the survivor's version when read
-- ARGV[2] loser_version: the loser's version when read
-- ARGV[3] distance: the cosine distance between them
-- ARGV[4] thread: the changes thread's id
-- ARGV[5] event_type: the event's type (`memrpc.memory_merged`)
-- ARGV[6] log_max_len: the thread log's MAXLEN
-- ARGV[7] feed_max_len: the feed's MAXLEN
-- Returns {0} when either memory changed (nothing written), {1, hit_count}
-- when merged, with the survivor's new hit count.
check_shape(4, 4, 7, 0, 0)
local survivor, loser = KEYS[1], KEYS[2]
arg_integer(1, 1)
arg_integer(2, 1)
local distance = arg_number(3, 0, 2)
local thread, event_type = arg_present(4), arg_present(5)
local log_max_len, feed_max_len = arg_integer(6, 1), arg_integer(7, 1)
if survivor == loser then
  bad_argument('a memory cannot merge into itself')
end

local kept, gone = memory_current(survivor, ARGV[1]), memory_current(loser, ARGV[2])
if not kept or not gone or gone.pinned then
  return {0}
end

-- When the document was last recalled (0: it records none).
local function recalled(key)
  return tonumber(string.match(redis.call('JSON.GET', key, '$.recalled_ms'), '%d+')) or 0
end

local ids = kept.merged_ids or {}
ids[#ids + 1] = gone.id
for _, id in ipairs(gone.merged_ids or {}) do
  ids[#ids + 1] = id
end
local hits = kept.hit_count + gone.hit_count
local writes = {
  '$.memory.hit_count', string.format('%d', hits),
  '$.memory.access_count', string.format('%d', (kept.access_count or 0) + (gone.access_count or 0)),
  '$.memory.last_access_ms',
  string.format('%d', math.max(kept.last_access_ms or 0, gone.last_access_ms or 0)),
  '$.memory.merged_ids', cjson.encode(ids),
}
local last_recalled = math.max(recalled(survivor), recalled(loser))
if last_recalled > 0 then
  writes[#writes + 1] = '$.recalled_ms'
  writes[#writes + 1] = string.format('%d', last_recalled)
end
memory_write(survivor, writes, '')
redis.call('DEL', loser)
local event = cjson.encode({memory_id = kept.id, merged_memory_id = gone.id,
  user_id = kept.user_id, kind = kept.kind, distance = distance, merged_text = gone.text,
  hit_count = hits})
append_event(KEYS[3], KEYS[4], log_max_len, feed_max_len, thread,
  {'type', event_type, 'json', event})
return {1, hits}
