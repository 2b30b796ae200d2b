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
-- kept). Kept as text and cut as text, like the window: an append or an
-- eviction costs string operations, not a table of the whole window.

-- `listed` if it holds the ids of `n` entries, else `n` unknown ones (the
-- field missing or out of step with the window).
local function session_window_ids(listed, n)
  listed = listed or ''
  if n == 0 then
    return ''
  end
  if select(2, string.gsub(listed, ',', ',')) + 1 == n then
    return listed
  end
  return string.rep(',', n - 1)
end

-- Records that the first `k` entries of the window ids `ids` (oldest first)
-- left the window: those of a known id count in `evicted_count`, the newest
-- of them becomes `evicted_last` (see store/summaries.py). Returns the ids
-- of the entries left, and how many of those that left had a known id.
local function session_evict(key, ids, k)
  local known, last, at = 0, nil, 1
  for _ = 1, k do
    local comma = string.find(ids, ',', at, true)
    local id = string.sub(ids, at, (comma or #ids + 1) - 1)
    if string.find(id, '^%d+%-%d+$') then
      known, last = known + 1, id
    end
    at = (comma or #ids) + 1
  end
  if known > 0 then
    redis.call('HINCRBY', key, 'evicted_count', known)
    redis.call('HSET', key, 'evicted_last', last)
  end
  return string.sub(ids, at), known
end

-- Records that every entry of the window ids `ids` left the window;
-- returns how many had a known id.
local function session_evict_all(key, ids)
  local _, known = session_evict(key, ids, select(2, string.gsub(ids, ',', ',')) + 1)
  return known
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

-- Whether a job's step read from the session `key` may write: it is still
-- the session the step read (`create_ms`), no step wrote since (its
-- `through_field` still holds `through`), and the `covered` turns are no
-- more than those that left the window and the job has neither covered
-- (`turns_field`) nor skipped (`skipped_field`). The cursor of the running
-- summary and of memory formation alike: so no turn is covered twice.
local function session_cursor_holds(key, create_ms, through_field, through, turns_field,
    skipped_field, covered)
  local stored = redis.call('HMGET', key, 'create_ms', through_field, 'evicted_count',
    turns_field, skipped_field)
  local pending = (tonumber(stored[3]) or 0) - (tonumber(stored[4]) or 0)
    - (tonumber(stored[5]) or 0)
  return stored[1] == create_ms and stored[2] == through and covered <= pending
end
