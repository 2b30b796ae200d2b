-- Hands entries of a namespace feed to one consumer of a group, without
-- blocking: first the entries left unacknowledged for at least min_idle_ms
-- (XAUTOCLAIM, which counts a new delivery), then new entries (XREADGROUP >).
-- Stops at `count` entries, or once their fields hold `max_bytes`.
-- Entries are taken one at a time so that no entry is delivered beyond that
-- point; the XAUTOCLAIM scan stays bounded (10 pending entries a call).
--
-- KEYS[1] feed: the namespace feed
-- ARGV[1] group: the consumer group
-- ARGV[2] consumer: the consumer
-- ARGV[3] min_idle_ms: how long an entry stays unacknowledged before it is
--   delivered again
-- ARGV[4] count: how many entries to hand out at most
-- ARGV[5] max_bytes: the field bytes after which no more entries are taken
-- Returns {id, {field, value, ...}, delivery_count} per entry, redeliveries
-- first. Fails with NOGROUP when the feed or the group does not exist.
-- Bounded work: at most `count` (ReceiveEvents' max_events, `RECEIVE_EVENTS`)
-- claims (each scanning at most 10 pending entries) and reads, fewer once
-- `max_bytes` are taken.
check_shape(1, 1, 5, 0, 0)
local feed, group, consumer = KEYS[1], arg_present(1), arg_present(2)
local min_idle, count, max_bytes = arg_integer(3, 0), arg_integer(4, 1), arg_integer(5, 1)
local result, bytes = {}, 0

local function add(entry, delivery_count)
  result[#result + 1] = {entry[1], entry[2], delivery_count}
  for _, value in ipairs(entry[2]) do
    bytes = bytes + #value
  end
end

local function full()
  return #result >= count or bytes >= max_bytes
end

local cursor = '0-0'
for _ = 1, count do
  local claimed = redis.call('XAUTOCLAIM', feed, group, consumer, min_idle, cursor, 'COUNT', 1)
  cursor = claimed[1]
  local entry = claimed[2][1]
  if entry then
    local pending = redis.call('XPENDING', feed, group, entry[1], entry[1], 1)
    add(entry, pending[1][4])
  end
  if full() or cursor == '0-0' then
    break
  end
end
while not full() do
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', feed, '>')
  if not read then
    break
  end
  add(read[1][2][1], 1)
end
return result
