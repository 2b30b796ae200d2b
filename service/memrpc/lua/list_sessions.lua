-- ListSessions: one page of live sessions, most recently updated first.
--
-- KEYS[1] index: the listing index (namespace or user)
-- ARGV[1] prefix: the session key prefix
-- ARGV[2] page_size: how many sessions to return at most
-- ARGV[3] full: '1' for the full view, '0' for the basic one
-- ARGV[4] cursor_score: the cursor's score, or '+inf' for the first page
-- ARGV[5] cursor_thread: the cursor's thread id ('' for none)
-- ARGV[6] budget: the most index entries to examine
-- Entries after the cursor come in ZREVRANGE order: lower score, or the same
-- score and a lower thread id. Entries whose session expired are removed
-- from the index as they are examined.
-- Bounded work: at most `budget` entries are examined (a read of the
-- session each), so a call costs the same however many expired entries the
-- index holds; when the budget runs out before the page is full, the page
-- is returned short (even empty) with the cursor of the last entry examined,
-- and the next call goes on from there.
-- Returns {cursor score, cursor thread, {thread, score, fields, ...}}:
-- the cursor is that of the last entry listed when the page is full, of the
-- last entry examined when the budget ran out, and '', '' when the index
-- holds nothing more.
check_shape(1, 1, 6, 0, 0)
local idx, prefix, size = KEYS[1], arg_present(1), arg_integer(2, 1)
local full = arg_choice(3, {['0'] = true, ['1'] = true}) == '1'
local cursor_score, cursor_thread, budget = ARGV[4], ARGV[5], arg_integer(6, 1)
if cursor_score ~= '+inf' then
  arg_number(4, -math.huge, math.huge)
end
-- The basic view: all but the window, the scratchpad and the summary's text.
local basic = {'user_id', 'goal', 'metadata', 'create_ms', 'update_ms', 'version',
  'ttl_ms', 'turn_count', 'evicted_count', 'summary_first', 'summary_last', 'summary_turns',
  'summary_skipped', 'summary_ms', 'summarizer', 'form_memories'}

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

local out, found, examined, dead = {}, 0, 0, {}
local last_score, last_thread = '', ''
-- Where the next batch starts: entries of score <= from_score, skipping the
-- `offset` first ones of that very score (already seen and still there).
local from_score, offset = cursor_score, 0
local exhausted = false
while found < size and examined < budget do
  local batch = redis.call('ZREVRANGEBYSCORE', idx, from_score, '-inf', 'WITHSCORES',
    'LIMIT', offset, math.min(size * 2, budget - examined))
  if #batch == 0 then
    exhausted = true
    break
  end
  for i = 1, #batch, 2 do
    local thread, score = batch[i], batch[i + 1]
    local kept = true
    if cursor_thread == '' or score ~= cursor_score or thread < cursor_thread then
      local key = prefix .. thread
      local fields = read(key)
      examined = examined + 1
      last_score, last_thread = score, thread
      if #fields == 0 then
        dead[#dead + 1] = thread
        kept = false
      else
        out[#out + 1] = thread
        out[#out + 1] = score
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
    if found == size or examined == budget then
      break
    end
  end
  -- The batch's expired entries go in one ZREM, before the next batch is
  -- read: `offset` counts the kept entries only.
  for i = 1, #dead, 1000 do
    redis.call('ZREM', idx, unpack(dead, i, math.min(i + 999, #dead)))
  end
  dead = {}
end
if exhausted then
  last_score, last_thread = '', ''
end
return {last_score, last_thread, out}
