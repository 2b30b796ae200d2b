-- Deduplicates and creates long-term memories, item after item, in one
-- atomic step: each item sees the items written before it (Redis Search
-- indexes a JSON write at once). With a request id, each item of the
-- request is done once: its outcome is recorded in the request's Hash in
-- the same step, and a repeat of the item returns it instead.
--
-- KEYS[1] request: the Hash remembering the request (field `fingerprint`,
--   and per item index its recorded outcome); without a fingerprint, a key
--   of the namespace that routes the call and is never touched
-- KEYS[2] sequence: the namespace's counter of written memories
-- KEYS[3..] documents: the new document of each item
-- ARGV[1] index: the search index
-- ARGV[2] max_distance: the max dedup distance (0: exact text only)
-- ARGV[3] prefix: the namespace's memory key prefix
-- ARGV[4] fingerprint: the request's fingerprint ('' without a request id)
-- ARGV[5] remember_ms: how long to remember a new request (ms; ignored
--   without a fingerprint)
-- ARGV[6] first: the index in the request of the first item
-- ARGV[7..] items: per item, its exact query, KNN query, vector, expire ms
--   ('' or '0': none, else the PEXPIREAT time) and document (JSON); an
--   empty KNN query skips the vector check
-- Returns {'reused'} when the request's Hash holds another fingerprint
-- (nothing written), else per item: {'written'} (its document, which the
-- caller knows), {'duplicate', distance, memory} (the memory it repeats,
-- after its hit), or for an item done before {outcome, distance, memory or
-- '' when deleted since, memory id}. A memory is the JSON of a document's
-- `$.memory` path.
-- Bounded work: two searches and a write per item, and the caller sends at
-- most `CREATE_BATCH` items per call (store/long_term.py), so that a call
-- stays within a few ms of Redis time (bench/redis_time.py).
check_shape(3, nil, 6, 5, 1)
local request, sequence = KEYS[1], KEYS[2]
local items = #KEYS - 2
local index, max_distance, prefix = arg_present(1), arg_number(2, 0, 2), arg_present(3)
local fingerprint, remember_ms, first = ARGV[4], arg_integer(5, 0), arg_integer(6, 0)
if fingerprint ~= '' and remember_ms < 1 then
  bad_argument('a fingerprint needs a time to remember the request')
end
if items ~= (#ARGV - 6) / 5 then
  bad_argument('expected ' .. items .. ' items, not the ' .. #ARGV .. ' arguments given')
end
-- Every item is well-formed, and its document under the prefix, before the
-- first is written: item j is KEYS[j + 2] and ARGV[5j + 2 .. 5j + 6].
for j = 1, items do
  key_under(j + 2, prefix)
  arg_optional_integer(5 * j + 5, 0)
  arg_present(5 * j + 6)
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

local results = {}
for j = 1, items do
  local key = KEYS[j + 2]
  local item = tostring(first + j - 1)
  local done = fingerprint ~= '' and redis.call('HGET', request, item)
  if done then
    local outcome, distance, id = string.match(done, '^(%a+) (%S+) (.+)$')
    results[#results + 1] = {outcome, distance, memory_json(prefix .. id) or '', id}
  else
    local duplicate, distance =
      memory_insert(index, prefix, max_distance, sequence, key, unpack(ARGV, 5 * j + 2, 5 * j + 6))
    local record
    if duplicate then
      results[#results + 1] = {'duplicate', distance, memory_json(duplicate)}
      record = 'duplicate ' .. distance .. ' ' .. string.sub(duplicate, #prefix + 1)
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
