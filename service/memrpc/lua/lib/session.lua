-- Shared helpers of the working-memory scripts. A session is the Hash
-- KEYS[1]; the namespace's listing index (a ZSet of thread ids scored by
-- last update) is KEYS[2].

-- Listing entries older than the longest allowed TTL are sessions that have
-- certainly expired; every write prunes up to PRUNE_BATCH of them (a bound on
-- the write's work: entries of sessions that expired sooner are removed by
-- ListSessions as it meets them, see list_sessions.lua).
local MAX_TTL_MS = 30 * 24 * 3600 * 1000
local PRUNE_BATCH = 100

-- The session's current version (0 when it does not exist), and whether the
-- caller's expected version ('' for none) matches it.
local function session_version(key, expected)
  local version = tonumber(redis.call('HGET', key, 'version')) or 0
  return version, expected == '' or tonumber(expected) == version
end

-- Records the session's user and moves it to that user's listing index;
-- adds the thread to the user's durable threads (`user_threads`, '' for no
-- user), keeping when it was first seen.
local function session_set_user(key, thread, user, user_idx, user_threads, now)
  local old = redis.call('HGET', key, 'user_idx')
  if old and old ~= user_idx then
    redis.call('ZREM', old, thread)
  end
  redis.call('HSET', key, 'user_id', user, 'user_idx', user_idx)
  if user_threads ~= '' then
    redis.call('ZADD', user_threads, 'NX', now, thread)
  end
end

-- The window's event ids, `turn_ids`: comma-separated, parallel to
-- `turn_sizes`, '' for a turn whose id is unknown (appended before ids were
-- kept, or not a stream id). `listed` split into `n` ids, or `n` unknown ones when it does not
-- hold `n` (a field missing or out of step with the window); with `n` nil,
-- as many as it holds.
local function session_window_ids(listed, n)
  local ids = {}
  if listed and listed ~= '' and n ~= 0 then
    for id in string.gmatch(listed .. ',', '([^,]*),') do
      ids[#ids + 1] = string.find(id, '^%d+%-%d+$') and id or ''
    end
  end
  if n and #ids ~= n then
    ids = {}
    for i = 1, n do
      ids[i] = ''
    end
  end
  return ids
end

-- Records that the turns `ids[1..n]` (oldest first) left the window: the
-- known ones count in `evicted_count`, the newest known one becomes
-- `evicted_last` (see store/summaries.py).
local function session_evict(key, ids, n)
  local known, last = 0, nil
  for i = 1, n do
    if ids[i] ~= '' then
      known, last = known + 1, ids[i]
    end
  end
  if known > 0 then
    redis.call('HINCRBY', key, 'evicted_count', known)
    redis.call('HSET', key, 'evicted_last', last)
  end
end

local function session_index(idx, thread, now)
  redis.call('ZADD', idx, now, thread)
  local old = redis.call('ZRANGEBYSCORE', idx, '-inf', '(' .. (now - MAX_TTL_MS),
    'LIMIT', 0, PRUNE_BATCH)
  if #old > 0 then
    redis.call('ZREM', idx, unpack(old))
  end
end

-- Completes a write: next version, timestamps, TTL, listing indexes.
-- Returns the new version.
local function session_touch(key, idx, thread, now, ttl, version)
  if version == 0 then
    redis.call('HSET', key, 'create_ms', now)
  end
  redis.call('HSET', key, 'version', version + 1, 'update_ms', now, 'ttl_ms', ttl)
  redis.call('PEXPIRE', key, ttl)
  session_index(idx, thread, now)
  local user_idx = redis.call('HGET', key, 'user_idx')
  if user_idx and user_idx ~= '' then
    session_index(user_idx, thread, now)
  end
  return version + 1
end
