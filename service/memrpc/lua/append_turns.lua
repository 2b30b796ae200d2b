-- AppendTurns: appends turns to the window, evicting the oldest beyond its
-- size in turns or in bytes, and records every turn in the thread's event
-- log, atomically, keeping the event id of each window entry (`turn_ids`)
-- and counting the turns that leave the window for the running summary
-- (`evicted_count`, `evicted_last`; see store/summaries.py). With a request key, it runs once: a repeat with the same
-- turns (the same fingerprint) returns the first append's reply and changes
-- nothing, whatever the session's version or existence now (see
-- lib/request_ids.lua).
--
-- KEYS[1] session: the session Hash
-- KEYS[2] index: the namespace listing index
-- KEYS[3] stream: the thread's event Stream
-- KEYS[4] feed: the namespace feed Stream
-- KEYS[5..] request: only with a request id, the String remembering that
--   request
-- ARGV[1] thread: the thread id
-- ARGV[2] now_ms: now (ms)
-- ARGV[3] ttl_ms: the session's time to live (ms)
-- ARGV[4] expected_version: the version the session must have, or '' for any
-- ARGV[5] window_turns: how many turns the window keeps at most
-- ARGV[6] window_bytes: how many bytes of entries the window keeps at most
-- ARGV[7] log_max_len: the event log's MAXLEN
-- ARGV[8] feed_max_len: the feed's MAXLEN
-- ARGV[9] user: the user id of a new session
-- ARGV[10] user_index: that user's listing index ('' for no user)
-- ARGV[11] user_threads: that user's durable threads ('' for no user)
-- ARGV[12] fingerprint: the request's fingerprint (ignored without KEYS[5])
-- ARGV[13] remember_ms: how long to remember the request (ms; ignored
--   without KEYS[5])
-- ARGV[14] form_memories: the thread's own choice of memory formation, '1'
--   or '0', recorded on the session (`form_memories`); '' keeps the one it
--   has (none: the namespace's setting applies)
-- ARGV[15..] turns: per turn, its window entry (a JSON object of at most
--   window_bytes bytes) and its event payload (JSON)
-- Returns {0, version} on a version mismatch, else
-- {REQUEST_DONE, version, evicted, turn_count, event ids...} for an append,
-- the same reply of the first append with REQUEST_REPLAYED for a repeat of
-- its request, {REQUEST_REUSED} for its request id with other turns.
-- Bounded work: one pass over the request's turns (at most
-- `Limits.max_batch_items`, memrpc/limits.py) and over the window's sizes
-- (at most the window size); the window is decoded only to repair sizes
-- that disagree with it, once.
check_shape(4, 5, 14, 2, 1)
local key, idx, stream, feed, request = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local thread = arg_present(1)
local now, ttl = arg_integer(2, 0), arg_integer(3, 1)
arg_optional_integer(4, 0)
local window_turns, window_bytes = arg_integer(5, 1), arg_integer(6, 2)
arg_integer(7, 1)
arg_integer(8, 1)
local fingerprint, remember_ms = ARGV[12], arg_integer(13, 0)
request_check(request, fingerprint, remember_ms)
local form_memories = arg_choice(14, {[''] = true, ['0'] = true, ['1'] = true})
local FIRST_TURN = 15
local OPEN, CLOSE, COMMA = string.byte('{'), string.byte('}'), string.byte(',')
for i = FIRST_TURN, #ARGV, 2 do
  local entry = ARGV[i]
  if #entry < 2 or #entry > window_bytes or string.byte(entry, 1) ~= OPEN
    or string.byte(entry, -1) ~= CLOSE then
    bad_argument('ARGV[' .. i .. '] must be a JSON object of 2 to ' .. window_bytes .. ' bytes')
  end
end

-- A repeated request, checked before the version: a retry whose expected
-- version the first append has made stale still gets that append's reply.
local earlier, first = request_recall(request, fingerprint)
if earlier == REQUEST_REUSED then
  return {REQUEST_REUSED}
elseif earlier then
  return {REQUEST_REPLAYED, first[1], first[2], first[3], unpack(first[4])}
end

local version, ok = session_version(key, ARGV[4])
if not ok then
  return {0, version}
end
if version == 0 and ARGV[9] ~= '' then
  session_set_user(key, thread, ARGV[9], ARGV[10], ARGV[11], now)
end
if form_memories ~= '' then
  redis.call('HSET', key, 'form_memories', form_memories)
end

-- The window stays JSON text, not decoded here: `turns` is the JSON array
-- and `turn_sizes` the byte length of each entry, comma-separated, so that
-- appending and evicting are string operations whatever the window holds.

-- The sizes `listed` if they cut the window `text` into its entries (each
-- `{...}`, followed by a comma or the closing bracket), else nil.
local function entry_sizes(text, listed)
  if string.find(listed, '[^%d,]') or string.find(listed, ',,') or
    string.find(listed, '^,') or string.find(listed, ',$') then
    return nil
  end
  local sizes, at = {}, 2
  for size in string.gmatch(listed, '%d+') do
    size = tonumber(size)
    local after = string.byte(text, at + size)
    if size < 2 or string.byte(text, at) ~= OPEN or string.byte(text, at + size - 1) ~= CLOSE
      or (after ~= COMMA and at + size ~= #text) then
      return nil
    end
    sizes[#sizes + 1] = size
    at = at + size + 1
  end
  if at ~= #text + 1 and not (#sizes == 0 and text == '[]') then
    return nil
  end
  return sizes
end

-- A window whose `turn_sizes` disagrees with it (a field lost or edited by
-- hand): its entries encoded again from the decoded window, and their sizes
-- (their ids stay theirs if `turn_ids` has as many, else become unknown).
-- A window that is not a JSON array starts again empty (its turns are in
-- the event log; the known ones count as having left the window).
local function rebuilt(text)
  local decoded, window = pcall(cjson.decode, text)
  local pieces, sizes = {}, {}
  if decoded and type(window) == 'table' then
    for i, entry in ipairs(window) do
      pieces[i] = cjson.encode(entry)
      sizes[i] = #pieces[i]
    end
    redis.log(redis.LOG_WARNING, 'memrpc: ' .. key .. ': turn_sizes disagreed with turns, derived again')
  else
    redis.log(redis.LOG_WARNING, 'memrpc: ' .. key .. ': turns is not a JSON array, emptied')
  end
  return pieces, sizes
end

local stored = redis.call('HMGET', key, 'turns', 'turn_sizes', 'turn_ids', 'folded_through')
local pieces, sizes = {}, {}
if stored[1] then
  sizes = entry_sizes(stored[1], stored[2] or '')
  if not sizes then
    pieces, sizes = rebuilt(stored[1])
    if #sizes == 0 then
      session_evict_all(key, stored[3] or '')
    end
  elseif #sizes > 0 then
    pieces[1] = string.sub(stored[1], 2, -2)
  end
end
-- The summary and formation take only this session's turns: a new session
-- (or one written before summaries) starts after the log's newest event.
if not stored[4] then
  local newest = newest_id(stream)
  redis.call('HSET', key, 'folded_through', newest, 'formed_through', newest)
end
local window_ids = session_window_ids(stored[3], #sizes)
local ids = {}
for i = FIRST_TURN, #ARGV, 2 do
  pieces[#pieces + 1] = ARGV[i]
  sizes[#sizes + 1] = #ARGV[i]
  ids[#ids + 1] = append_event(stream, feed, ARGV[7], ARGV[8], thread,
    {'type', 'memrpc.turn', 'json', ARGV[i + 1]})
end
if #sizes > #ids then
  window_ids = window_ids .. ',' .. table.concat(ids, ',')
else
  window_ids = table.concat(ids, ',')
end

-- The oldest entries leave until at most `window_turns` remain, holding at
-- most `window_bytes` (the newest entry alone always fits).
local text = table.concat(pieces, ',')
local kept = 0
for i = 1, #sizes do
  kept = kept + sizes[i]
end
local evicted, cut = 0, 0
while #sizes - evicted > window_turns or kept > window_bytes and evicted < #sizes - 1 do
  evicted = evicted + 1
  kept = kept - sizes[evicted]
  cut = cut + sizes[evicted] + 1 -- the entry and the comma after it
end
if evicted > 0 then
  text = string.sub(text, cut + 1)
  sizes = {unpack(sizes, evicted + 1)}
  window_ids = session_evict(key, window_ids, evicted)
end
local count = redis.call('HINCRBY', key, 'turn_count', #ids)
redis.call('HSET', key, 'turns', '[' .. text .. ']', 'turn_sizes', table.concat(sizes, ','),
  'turn_ids', window_ids)
version = session_touch(key, idx, thread, now, ttl, version)
request_remember(request, fingerprint, remember_ms, {version, evicted, count, ids})
return {REQUEST_DONE, version, evicted, count, unpack(ids)}
