-- MemoryForget: forgets memories the forgetting job chose by a rule of the
-- namespace's policy (store/forgetting.py), each only if it is as the job
-- read it: it still exists (not expired nor deleted), is not pinned, is at
-- the version read, and was not recalled since (`r` as read). A memory
-- still a JSON document of schema 2 is converted to a Hash first
-- (`memory_upgrade`).
-- For the budget rule, the memories the budget counts are counted first,
-- and no more are forgotten than those beyond it. Each memory forgotten is
-- deleted (as delete_memory.lua deletes one) and recorded by an event
-- `event_type` in the namespace's memory-changes thread, its payload
-- `{memory_id, user_id, kind, text, rule, hit_count, access_count,
-- create_time, last_access_time}` (`last_access_time` absent when no
-- search returned it; times in RFC 3339, UTC). A memory changed since it
-- was read is left alone: the next run reads it again.
--
-- KEYS[1] stream: the memory-changes thread's log
-- KEYS[2] feed: the namespace feed
-- KEYS[3] probe: a key of the namespace that is never written: keeps the
--   script from running while a Redis Cluster moves the namespace's slot
--   (`store/memory_indexes.py`)
-- KEYS[4..] documents: the memories to forget, in order (at most one batch)
-- ARGV[1] rule: why (`budget` or `unrecalled`), recorded in each event
-- ARGV[2] event_type: the type of the events
-- ARGV[3] thread: the memory-changes thread id
-- ARGV[4] log_max_len: the thread log's MAXLEN
-- ARGV[5] feed_max_len: the feed's MAXLEN
-- ARGV[6] index: the search index
-- ARGV[7] count_query: the query of the memories the budget counts ('':
--   no budget, forget each memory that is as read), over the index alone:
--   during a migration, the memories still in the legacy index are not
--   counted, so the budget forgets fewer, never more
-- ARGV[8] keep: how many of those the budget keeps (with a count query)
-- ARGV[9] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- ARGV[10..] expected: per document, its version and its `r` as read (''
--   when it had none)
-- Returns {forgotten, left}: how many memories were forgotten, and how many
-- the budget still counts beyond what it keeps (0 without a budget).
check_shape(4, nil, 9, 2, 1)
local n = #KEYS - 3
if (#ARGV - 9) / 2 ~= n then
  bad_argument('expected a version and a recall time per document')
end
local rule, event_type, thread = arg_present(1), arg_present(2), arg_present(3)
local log_max_len, feed_max_len = arg_integer(4, 1), arg_integer(5, 1)
local index, count_query = arg_present(6), ARGV[7]
local keep = arg_integer(8, 0)
local vector_type = arg_vector_type(9)
-- Document i is KEYS[3 + i], its version ARGV[8 + 2i], its `r` ARGV[9 + 2i].
for i = 1, n do
  arg_integer(8 + 2 * i, 1)
  arg_optional_integer(9 + 2 * i, 0)
end

-- A time in ms since the epoch as RFC 3339 in UTC, with milliseconds
-- (the days to a civil date: Howard Hinnant's `civil_from_days`).
local function rfc3339(ms)
  local seconds = math.floor(ms / 1000)
  local days = math.floor(seconds / 86400)
  local in_day = seconds - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
    math.floor(in_day / 3600), math.floor(in_day % 3600 / 60), in_day % 60, ms % 1000)
end

local left = 0
if count_query ~= '' then
  local counted = redis.call('FT.SEARCH', index, count_query, 'NOCONTENT', 'LIMIT', 0, 0,
    'TIMEOUT', 0, 'DIALECT', 2)
  left = math.max(0, counted[1] - keep)
end

local forgotten = 0
for i = 1, n do
  if count_query ~= '' and left == 0 then
    break
  end
  local key = KEYS[3 + i]
  memory_upgrade(key, vector_type)
  local memory = memory_get(key, {'u', 'k', 't', 'h', 'ac', 'c', 'la', 'p', 'vr', 'r'})
  if memory and tonumber(memory.r) == tonumber(ARGV[9 + 2 * i]) and not memory.p
      and (tonumber(memory.vr) or 1) == tonumber(ARGV[8 + 2 * i]) then
    local payload = {
      memory_id = memory.id, user_id = unhex(memory.u), kind = unhex(memory.k),
      text = memory.t, rule = rule, hit_count = tonumber(memory.h),
      access_count = tonumber(memory.ac) or 0,
      create_time = rfc3339(tonumber(memory.c)),
    }
    local last_access = tonumber(memory.la) or 0
    if last_access > 0 then
      payload.last_access_time = rfc3339(last_access)
    end
    redis.call('DEL', key)
    append_event(KEYS[1], KEYS[2], log_max_len, feed_max_len, thread,
      {'type', event_type, 'json', cjson.encode(payload)})
    forgotten = forgotten + 1
    if count_query ~= '' then
      left = left - 1
    end
  end
end
return {forgotten, left}
