-- Deduplicates and writes long-term memories, item after item, in one atomic
-- step: each item sees the items written before it (Redis Search indexes a
-- JSON write at once).
--
-- KEYS[1..] documents: the document of each item
-- ARGV[1] index: the search index
-- ARGV[2] max_distance: the max dedup distance (0: exact text only)
-- ARGV[3] prefix: the namespace's key prefix
-- ARGV[4..] items: per item, `mode`, exact query, KNN query, vector, expire
--   ms, the number of (path, JSON value) pairs to write and those pairs
--   mode `create`: a new document; a duplicate gains a hit instead.
--   mode `update`: an existing document; a duplicate stops the item.
--   An empty exact query skips the dedup, an empty KNN query its vector part.
--   Expire ms: '' keeps the expiry, '0' removes it, else the PEXPIREAT time.
-- Returns per item {outcome, distance, memory}: outcome `written` (the item's
-- memory; a create, which knows it, gets {'written'} alone), `duplicate` (the
-- memory it repeats) or `missing` (an update of a memory that does not exist,
-- alone in its reply). A memory is the JSON of its document's `$.memory` path.
-- Bounded work: two searches and a write per item, and the caller sends at
-- most `CREATE_BATCH` items per call (store/long_term.py), so that a call
-- stays within a few ms of Redis time (bench/redis_time.py).
check_shape(1, nil, 3, 1, 1)
local index, max_distance, prefix = arg_present(1), arg_number(2, 0, 2), arg_present(3)
-- Every item is well-formed, and its document under the prefix, before the
-- first is written.
local MODES = {create = true, update = true}
local at = 4
for i, key in ipairs(KEYS) do
  if string.sub(key, 1, #prefix) ~= prefix then
    bad_argument('KEYS[' .. i .. '] is not under the prefix')
  end
  arg_choice(at, MODES)
  arg_optional_integer(at + 4, 0)
  at = at + 6 + 2 * arg_integer(at + 5, 0, (#ARGV - at - 5) / 2)
end
if at ~= #ARGV + 1 then
  bad_argument('expected ' .. #KEYS .. ' items, not the ' .. #ARGV .. ' arguments given')
end

-- Both searches pass TIMEOUT 0: a search cut short by the module's timeout
-- (500 ms, returning partial results by default) could miss a duplicate.

-- A live memory of this namespace, other than `self`.
local function is_other(key, self)
  return key ~= self and string.sub(key, 1, #prefix) == prefix
    and redis.call('EXISTS', key) == 1
end

local function same_text(self, query)
  local found = redis.call('FT.SEARCH', index, query, 'NOCONTENT', 'LIMIT', 0, 2,
    'TIMEOUT', 0, 'DIALECT', 2)
  for i = 2, #found do
    if is_other(found[i], self) then return found[i] end
  end
end

local function nearest(self, query, vector)
  local found = redis.call('FT.SEARCH', index, query, 'PARAMS', 2, 'v', vector,
    'RETURN', 1, 'd', 'SORTBY', 'd', 'LIMIT', 0, 2, 'TIMEOUT', 0, 'DIALECT', 2)
  for i = 2, #found, 2 do
    local distance = tonumber(found[i + 1][2])
    if distance <= max_distance and is_other(found[i], self) then return found[i], distance end
  end
end

local function write(key, first, n_pairs, expire_ms)
  local args = {}
  for j = first, first + 2 * n_pairs - 1, 2 do
    args[#args + 1] = key
    args[#args + 1] = ARGV[j]
    args[#args + 1] = ARGV[j + 1]
  end
  redis.call('JSON.MSET', unpack(args))
  if expire_ms == '0' then
    redis.call('PERSIST', key)
  elseif expire_ms ~= '' then
    redis.call('PEXPIREAT', key, expire_ms)
  end
end

local function memory(key)
  return redis.call('JSON.GET', key, '$.memory')
end

local results = {}
local arg = 4
for i, key in ipairs(KEYS) do
  local mode, exact, knn, vector, expire_ms = unpack(ARGV, arg, arg + 4)
  local n_pairs = tonumber(ARGV[arg + 5])
  local first_pair = arg + 6
  arg = first_pair + 2 * n_pairs
  if mode == 'update' and redis.call('EXISTS', key) == 0 then
    results[i] = {'missing'}
  else
    local duplicate, distance = nil, 0
    if exact ~= '' then duplicate = same_text(key, exact) end
    if not duplicate and knn ~= '' then duplicate, distance = nearest(key, knn, vector) end
    if duplicate then
      if mode == 'create' then
        redis.call('JSON.NUMINCRBY', duplicate, '$.memory.hit_count', 1)
      end
      results[i] = {'duplicate', tostring(distance), memory(duplicate)}
    else
      write(key, first_pair, n_pairs, expire_ms)
      if mode == 'create' then
        results[i] = {'written'}
      else
        results[i] = {'written', '0', memory(key)}
      end
    end
  end
end
return results
