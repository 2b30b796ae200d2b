-- ListSessions: one page of live sessions, most recently updated first.
-- KEYS: [1] the listing index (namespace or user).
-- ARGV: [1] session key prefix, [2] page size, [3] '1' for the full view,
--       [4] cursor score or '+inf', [5] cursor thread id ('' for none).
-- Entries after the cursor come in ZREVRANGE order: lower score, or the same
-- score and a lower thread id. Entries whose session expired are removed.
-- Returns {thread, score, pttl, fields, thread, score, pttl, fields, ...}.
local idx, prefix, size, full = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local cursor_score, cursor_thread = ARGV[4], ARGV[5]
local basic = {'user_id', 'goal', 'metadata', 'create_ms', 'update_ms', 'version',
  'ttl_ms', 'turn_count'}

local function read(key)
  if full then
    return redis.call('HGETALL', key)
  end
  local values = redis.call('HMGET', key, unpack(basic))
  local fields = {}
  for j = 1, #basic do
    if values[j] then
      fields[#fields + 1] = basic[j]
      fields[#fields + 1] = values[j]
    end
  end
  return fields
end

local out, found = {}, 0
-- Where the next batch starts: entries of score <= from_score, skipping the
-- `offset` first ones of that very score (already seen and still there).
local from_score, offset = cursor_score, 0
while found < size do
  local batch = redis.call('ZREVRANGEBYSCORE', idx, from_score, '-inf', 'WITHSCORES',
    'LIMIT', offset, size * 2)
  if #batch == 0 then
    break
  end
  for i = 1, #batch, 2 do
    local thread, score = batch[i], batch[i + 1]
    local kept = true
    if cursor_thread == '' or score ~= cursor_score or thread < cursor_thread then
      local key = prefix .. thread
      local fields = read(key)
      if #fields == 0 then
        redis.call('ZREM', idx, thread)
        kept = false
      else
        out[#out + 1] = thread
        out[#out + 1] = score
        out[#out + 1] = redis.call('PTTL', key)
        out[#out + 1] = fields
        found = found + 1
      end
    end
    if score ~= from_score then
      from_score, offset = score, 0
    end
    if kept then
      offset = offset + 1
    end
    if found == size then
      break
    end
  end
end
return out
