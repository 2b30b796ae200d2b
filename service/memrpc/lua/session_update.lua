-- UpdateSession: sets or clears session fields atomically. Emptying the
-- window (`turns` set to '[]') counts its turns as having left it, for the
-- running summary (see store/summaries.py), and records that in the thread's
-- log (and feed) as an event `memrpc.window_emptied`, which runs the summary
-- job as appended turns do; a new session's summary starts after the thread
-- log's newest event.
--
-- KEYS[1] session: the session Hash
-- KEYS[2] index: the namespace listing index
-- KEYS[3] stream: the thread's event Stream
-- KEYS[4] feed: the namespace feed Stream
-- ARGV[1] thread: the thread id
-- ARGV[2] now_ms: now (ms)
-- ARGV[3] ttl_ms: the session's time to live (ms)
-- ARGV[4] expected_version: the version the session must have, or '' for any
-- ARGV[5] set_user: '1' to set the user, '0' to keep it
-- ARGV[6] user: the user id to set
-- ARGV[7] user_index: that user's listing index ('' for no user)
-- ARGV[8] user_threads: that user's durable threads ('' for no user)
-- ARGV[9] log_max_len: the event log's MAXLEN
-- ARGV[10] feed_max_len: the feed's MAXLEN
-- ARGV[11..] fields: field, value pairs to write (goal, scratchpad, metadata,
--   and turns, only '[]', to empty the window)
-- Returns {0, version} on a version mismatch, else {1, HGETALL...}.
check_shape(4, 4, 10, 2, 0)
local key, idx, stream, feed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local thread = arg_present(1)
local now, ttl = arg_integer(2, 0), arg_integer(3, 1)
arg_optional_integer(4, 0)
arg_choice(5, {['0'] = true, ['1'] = true})
arg_integer(9, 1)
arg_integer(10, 1)
local WRITABLE = {goal = true, scratchpad = true, metadata = true, turns = true}
local empties = false
for i = 11, #ARGV, 2 do
  if arg_choice(i, WRITABLE) == 'turns' then
    arg_choice(i + 1, {['[]'] = true})
    empties = true
  end
end

local version, ok = session_version(key, ARGV[4])
if not ok then
  return {0, version}
end
if ARGV[5] == '1' then
  session_set_user(key, thread, ARGV[6], ARGV[7], ARGV[8], now)
end
if version == 0 then
  local newest = newest_id(stream)
  redis.call('HSET', key, 'folded_through', newest, 'formed_through', newest)
end
if empties then
  local left = session_evict_all(key, redis.call('HGET', key, 'turn_ids') or '')
  redis.call('HSET', key, 'turn_sizes', '', 'turn_ids', '')
  if left > 0 then
    append_event(stream, feed, ARGV[9], ARGV[10], thread,
      {'type', 'memrpc.window_emptied', 'json', cjson.encode({turn_count = left})})
  end
end
if #ARGV >= 12 then
  redis.call('HSET', key, unpack(ARGV, 11))
end
session_touch(key, idx, thread, now, ttl, version)
return {1, redis.call('HGETALL', key)}
