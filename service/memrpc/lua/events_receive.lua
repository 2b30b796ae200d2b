-- Hands entries of a namespace feed to one consumer of a group, without
-- blocking: first the entries left unacknowledged for at least min_idle_ms
-- (XAUTOCLAIM, which counts a new delivery), then new entries (XREADGROUP >).
-- Stops at `count` entries, once their fields hold `max_bytes`, or after
-- `steps` Redis reads; the caller calls again, from the returned claim
-- cursor, for more. Entries are taken one at a time so that no entry is
-- delivered beyond the byte budget; an XAUTOCLAIM scans at most 10 pending
-- entries.
--
-- KEYS[1] feed: the namespace feed
-- ARGV[1] group: the consumer group
-- ARGV[2] consumer: the consumer
-- ARGV[3] min_idle_ms: how long an entry stays unacknowledged before it is
--   delivered again
-- ARGV[4] count: how many entries to hand out at most
-- ARGV[5] max_bytes: the field bytes after which no more entries are taken
-- ARGV[6] steps: how many claims or reads to make at most
-- ARGV[7] claim_cursor: where to go on claiming pending entries ('0-0' to
--   start, '' when claiming is done)
-- Returns {claim cursor ('' once every pending entry was looked at), 1 when
-- no new entry is left to read else 0, bytes taken, entries}, each entry
-- {id, {field, value, ...}, delivery_count}, redeliveries first. Fails with
-- NOGROUP when the feed or the group does not exist.
-- Bounded work: at most `steps` (store/events.py RECEIVE_STEPS) claims or
-- reads per call, whatever the pending list or the feed holds.
check_shape(1, 1, 7, 0, 0)
local feed, group, consumer = KEYS[1], arg_present(1), arg_present(2)
local min_idle, count, max_bytes = arg_integer(3, 0), arg_integer(4, 1), arg_integer(5, 1)
local steps, cursor = arg_integer(6, 1), ARGV[7]
if cursor ~= '' and not string.match(cursor, '^%d+%-%d+$') then
  bad_argument('ARGV[7] must be a stream id or empty, not ' .. cursor)
end
local result, bytes, drained = {}, 0, 0

local function add(entry, delivery_count)
  result[#result + 1] = {entry[1], entry[2], delivery_count}
  for _, value in ipairs(entry[2]) do
    bytes = bytes + #value
  end
end

local function full()
  return #result >= count or bytes >= max_bytes or steps == 0
end

while cursor ~= '' and not full() do
  steps = steps - 1
  local claimed = redis.call('XAUTOCLAIM', feed, group, consumer, min_idle, cursor, 'COUNT', 1)
  cursor = claimed[1] == '0-0' and '' or claimed[1]
  local entry = claimed[2][1]
  if entry then
    local pending = redis.call('XPENDING', feed, group, entry[1], entry[1], 1)
    add(entry, pending[1][4])
  end
end
while cursor == '' and not full() do
  steps = steps - 1
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', feed, '>')
  if not read then
    drained = 1
    break
  end
  add(read[1][2][1], 1)
end
return {cursor, drained, bytes, result}
