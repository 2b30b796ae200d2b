-- Deduplicates and creates long-term memories, item after item, in one
-- atomic step: each item sees the items written before it (Redis Search
-- indexes a write at once). With a request id, each item of the
-- request is done once: its outcome is recorded in the request's Hash in
-- the same step, and a repeat of the item returns it instead.
--
-- KEYS[1] request: the Hash remembering the request (field `fingerprint`,
--   and per item index its recorded outcome); without a fingerprint, a key
--   of the namespace that routes the call and is never touched
-- KEYS[2] sequence: the namespace's counter of written memories
-- KEYS[3..] documents: the new memory of each item (a Hash)
-- ARGV[1] index: the search index
-- ARGV[2] legacy_index: the index of schema 2's JSON documents, searched
--   too until the migration drops it ('' for none)
-- ARGV[3] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- ARGV[4] max_distance: the max dedup distance (0: exact text only)
-- ARGV[5] prefix: the namespace's memory key prefix
-- ARGV[6] fingerprint: the request's fingerprint ('' without a request id)
-- ARGV[7] remember_ms: how long to remember a new request (ms; ignored
--   without a fingerprint)
-- ARGV[8] first: the index in the request of the first item
-- ARGV[9] existing: what an item does when its document's key exists (a
--   client-chosen id already taken): `fail` (nothing written, see Returns)
--   or `replace` (the memory is written anew, keeping its `c`, its version
--   one more; unless the item repeats another memory, which gains a hit)
-- ARGV[10..] items: per item, its exact query, the same of the legacy index,
--   KNN query, vector (a blob of the vector type), the field it is written
--   to (`v`, or `v_<f>` of a model moved to), another field and vector
--   ('' and '': none; the other model's during a move), expire ms ('' or
--   '0': none, else the PEXPIREAT time) and document (the JSON object of
--   the memory's other Hash fields but `q`, which the script numbers): see
--   `arg_item`; an empty KNN query skips the vector check, an empty exact
--   query the text check (both empty: dedup off)
-- Returns {'reused'} when the request's Hash holds another fingerprint
-- (nothing written), {'taken', j} when `existing` is `fail` and the key of
-- item j (1-based in this call) exists and was not written by an earlier
-- call of the request (nothing written), else per item: {'written'} (its
-- document, which the caller knows), {'replaced', memory} (the memory it
-- replaced, as written), {'duplicate', distance, memory} (the memory it
-- repeats, after its hit), or for an item done before {outcome, distance,
-- memory or {} when deleted since, memory id}. A memory is the list of its
-- `memory_document.READ_FIELDS` (`MEMORY_READ`), nil for an absent field.
-- A memory of schema 2 that an item repeats, or that a replay returns, is
-- converted to a Hash first (`memory_upgrade`).
-- Bounded work: four searches (two per index) and a write per item, and the
-- caller sends at most `CREATE_BATCH` items per call (store/long_term.py),
-- so that a call stays within a few ms of Redis time (bench/redis_time.py).
check_shape(3, nil, 9, ITEM_ARGS, 1)
local request, sequence = KEYS[1], KEYS[2]
local items = #KEYS - 2
local dedup = arg_dedup(1)
local fingerprint, remember_ms, first = ARGV[6], arg_integer(7, 0), arg_integer(8, 0)
local replace = arg_choice(9, {fail = true, replace = true}) == 'replace'
if fingerprint ~= '' and remember_ms < 1 then
  bad_argument('a fingerprint needs a time to remember the request')
end
if items ~= (#ARGV - 9) / ITEM_ARGS then
  bad_argument('expected ' .. items .. ' items, not the ' .. #ARGV .. ' arguments given')
end
-- Every item is well-formed, its key under the prefix, before the first is
-- written: item j is KEYS[j + 2] and the ITEM_ARGS arguments from
-- ARGV[10 + ITEM_ARGS * (j - 1)].
local checked = {}
for j = 1, items do
  key_under(j + 2, dedup.prefix)
  checked[j] = arg_item(10 + ITEM_ARGS * (j - 1))
end

if fingerprint ~= '' then
  local earlier = redis.call('HGET', request, 'fingerprint')
  if not earlier then
    redis.call('HSET', request, 'fingerprint', fingerprint)
    redis.call('PEXPIRE', request, remember_ms)
  elseif earlier ~= fingerprint then
    return {'reused'}
  end
end

-- An item done before, by an earlier call of the request: its record.
local function done_before(j)
  return fingerprint ~= '' and redis.call('HGET', request, tostring(first + j - 1))
end

-- Without `replace`, no item's key is taken (a client-chosen id) before
-- the first is written.
if not replace then
  for j = 1, items do
    if redis.call('EXISTS', KEYS[j + 2]) == 1 and not done_before(j) then
      return {'taken', j}
    end
  end
end

local prefix = dedup.prefix
local results = {}
for j = 1, items do
  local key = KEYS[j + 2]
  local item = tostring(first + j - 1)
  local done = done_before(j)
  if done then
    local outcome, distance, id = string.match(done, '^(%a+) (%S+) (.+)$')
    memory_upgrade(prefix .. id, dedup.vector_type)
    results[#results + 1] = {outcome, distance, memory_read(prefix .. id) or {}, id}
  else
    local replaced = replace and memory_get(key, {'c', 'vr'})
    local duplicate, distance = memory_insert(dedup, sequence, key, checked[j], replaced)
    local record
    if duplicate then
      results[#results + 1] = {'duplicate', distance, memory_read(duplicate)}
      record = 'duplicate ' .. distance .. ' ' .. string.sub(duplicate, #prefix + 1)
    elseif replaced then
      results[#results + 1] = {'replaced', memory_read(key)}
      record = 'replaced 0 ' .. string.sub(key, #prefix + 1)
    else
      results[#results + 1] = {'written'}
      record = 'written 0 ' .. string.sub(key, #prefix + 1)
    end
    if fingerprint ~= '' then
      redis.call('HSET', request, item, record)
    end
  end
end
return results
