-- Shared helpers of the long-term memory scripts: a memory is the JSON
-- document `key` (store/long_term.py), whose `$.memory` is what a read
-- returns.

-- The memory's version: 0 when it does not exist, 1 for a document written
-- before versions were (it has no `$.memory.version`).
local function memory_version(key)
  local found = redis.call('JSON.GET', key, '$.memory.version')
  if not found then
    return 0
  end
  return tonumber(string.match(found, '%d+')) or 1
end

-- The version check of a write: the current version, and whether it is the
-- `expected` one ('' for any).
local function memory_expected(key, expected)
  local version = memory_version(key)
  return version, expected == '' or tonumber(expected) == version
end

-- The JSON of the memory of `key` (a list of one), nil when it is gone.
local function memory_json(key)
  return redis.call('JSON.GET', key, '$.memory')
end

-- The JSON of the `$.tags.flags` list of `key` with `flag` in it (`on`) or
-- not, the other flags kept in order (a document written before flags has
-- none). Flags are plain words (`memory_index.Flag`): no escaping needed.
local function memory_flags(key, flag, on)
  local found = redis.call('JSON.GET', key, '$.tags.flags')
  local flags = {}
  for _, value in ipairs((cjson.decode(found or '[]'))[1] or {}) do
    if value ~= flag then flags[#flags + 1] = '"' .. value .. '"' end
  end
  if on then flags[#flags + 1] = '"' .. flag .. '"' end
  return '[' .. table.concat(flags, ',') .. ']'
end

-- Dedup searches: both pass TIMEOUT 0, as a search cut short by the module's
-- timeout (500 ms, returning partial results by default) could miss a
-- duplicate. They skip `self` and keys outside `prefix` or gone meanwhile.

local function memory_is_other(key, self, prefix)
  return key ~= self and string.sub(key, 1, #prefix) == prefix
    and redis.call('EXISTS', key) == 1
end

-- A live memory other than `self` with the same normalised text (`query`).
local function memory_same_text(index, prefix, self, query)
  local found = redis.call('FT.SEARCH', index, query, 'NOCONTENT', 'LIMIT', 0, 2,
    'TIMEOUT', 0, 'DIALECT', 2)
  for i = 2, #found do
    if memory_is_other(found[i], self, prefix) then return found[i] end
  end
end

-- The nearest live memory other than `self` within `max_distance` of
-- `vector` (`query`: a KNN query), and its distance (as Redis wrote it).
local function memory_nearest(index, prefix, max_distance, self, query, vector)
  local found = redis.call('FT.SEARCH', index, query, 'PARAMS', 2, 'v', vector,
    'RETURN', 1, 'd', 'SORTBY', 'd', 'LIMIT', 0, 2, 'TIMEOUT', 0, 'DIALECT', 2)
  for i = 2, #found, 2 do
    local distance = found[i + 1][2]
    if tonumber(distance) <= max_distance and memory_is_other(found[i], self, prefix) then
      return found[i], distance
    end
  end
end

-- The memory that an item with these queries repeats (nil: none), and its
-- distance ('0' for the same text). An empty `exact` skips the text check,
-- an empty `knn` the vector check.
local function memory_duplicate(index, prefix, max_distance, self, exact, knn, vector)
  local duplicate
  if exact ~= '' then duplicate = memory_same_text(index, prefix, self, exact) end
  if duplicate then return duplicate, '0' end
  if knn ~= '' then
    return memory_nearest(index, prefix, max_distance, self, knn, vector)
  end
end

-- Writes (JSON path, JSON value) `pairs` (a flat list) to `key`, then sets
-- its expiry: `expire_ms` '' keeps it, '0' removes it, else it is the
-- PEXPIREAT time.
local function memory_write(key, pairs, expire_ms)
  local args = {}
  for j = 1, #pairs, 2 do
    args[#args + 1] = key
    args[#args + 1] = pairs[j]
    args[#args + 1] = pairs[j + 1]
  end
  redis.call('JSON.MSET', unpack(args))
  if expire_ms == '0' then
    redis.call('PERSIST', key)
  elseif expire_ms ~= '' then
    redis.call('PEXPIREAT', key, expire_ms)
  end
end

-- Pins the memory `key` unless it is: a change of its content, so a new
-- version, updated at `now_ms`.
local function memory_pin(key, now_ms)
  local memory = cjson.decode(memory_json(key))[1]
  if memory.pinned then
    return
  end
  memory_write(key, {'$.memory.pinned', 'true', '$.tags.flags', memory_flags(key, 'pinned', true),
    '$.memory.version', tostring((memory.version or 1) + 1), '$.memory.update_ms', now_ms}, '')
end

-- Creates the memory `key` with JSON `document` (expiring at `expire_ms`,
-- '' or '0' for never) unless it repeats another (see `memory_duplicate`):
-- then that one gains a hit instead, and is pinned if the item is. Returns
-- the repeated memory's key and distance, or nil when `key` was written. A
-- written memory takes the next number of the namespace's counter
-- `sequence` as its `$.seq` (the order memories were written in, which
-- hybrid recall's neighbours follow; store/recall.py).
local function memory_insert(index, prefix, max_distance, sequence, key, exact, knn, vector,
    expire_ms, document)
  local duplicate, distance = memory_duplicate(index, prefix, max_distance, key, exact, knn, vector)
  if duplicate then
    redis.call('JSON.NUMINCRBY', duplicate, '$.memory.hit_count', 1)
    -- A pinned item's document holds `"pinned":true` (store/long_term.py
    -- writes it compact): a bare `true` after that key appears nowhere else,
    -- as every user value is a JSON string, whose quotes are escaped.
    if string.find(document, '"pinned":true', 1, true) then
      memory_pin(duplicate, string.match(document, '"update_ms":(%d+)'))
    end
    return duplicate, distance
  end
  local seq = redis.call('INCR', sequence)
  -- `document` is a JSON object: `{...}` becomes `{"seq":n,...}`.
  document = '{"seq":' .. seq .. ',' .. string.sub(document, 2)
  memory_write(key, {'$', document}, expire_ms == '0' and '' or expire_ms)
end

-- The decoded `$.memory` of `key` when it exists at `version` and is not
-- superseded; nil otherwise (gone, changed, or superseded since read).
local function memory_current(key, version)
  local found = memory_json(key)
  if not found then
    return nil
  end
  local memory = cjson.decode(found)[1]
  if (memory.version or 1) ~= tonumber(version) or (memory.superseded_by or '') ~= '' then
    return nil
  end
  return memory
end
