-- UpdateNamespaceSettings: sets and clears a namespace's settings at once,
-- with its version and update time.
--
-- KEYS[1] settings: the namespace's settings Hash
-- ARGV[1] now_ms: now (ms)
-- ARGV[2] expected_version: the version the settings must have (0: never
--   changed), or '' for any
-- ARGV[3..] fields: field, value pairs; a value is a number (a word of
--   lowercase letters for `recall_mode`), or '' to clear the field (it
--   follows the server again)
-- Returns {0, version} on a version mismatch, else {1, HGETALL...}.
check_shape(1, 1, 2, 2, 0)
local key = KEYS[1]
local now = arg_integer(1, 0)
local expected = arg_optional_integer(2, 0)
-- Each setting, and what its values are.
local NUMBER, WORD = 1, 2
local SETTABLE = {
  session_ttl_ms = NUMBER, window_turns = NUMBER, window_bytes = NUMBER,
  dedup_distance = NUMBER, recall_distance = NUMBER, episodic_ttl_ms = NUMBER,
  summaries_enabled = NUMBER, summary_max_chars = NUMBER, summary_min_fold_turns = NUMBER,
  formation_enabled = NUMBER, formation_turns_per_memory = NUMBER, formation_max_chars = NUMBER,
  formation_extract_facts = NUMBER, recall_mode = WORD, keyword_weight = NUMBER,
  neighbor_weight = NUMBER, time_weight = NUMBER, consolidation_enabled = NUMBER, consolidation_distance = NUMBER,
  consolidation_interval_ms = NUMBER, forgetting_enabled = NUMBER,
  forgetting_max_per_user = NUMBER, forgetting_unrecalled_ms = NUMBER,
  forgetting_interval_ms = NUMBER, llm_enabled = NUMBER, llm_calls_per_minute = NUMBER,
}
local changes = {}
for i = 3, #ARGV, 2 do
  arg_choice(i, SETTABLE)
  local value = ARGV[i + 1]
  if value ~= '' and SETTABLE[ARGV[i]] == WORD and not string.match(value, '^%l+$') then
    bad_argument('ARGV[' .. (i + 1) .. '] must be a word of lowercase letters, not ' .. value)
  elseif value ~= '' and SETTABLE[ARGV[i]] == NUMBER then
    arg_number(i + 1, 0, math.huge)
  end
  changes[ARGV[i]] = ARGV[i + 1]
end

local current = redis.call('HGETALL', key)
local fields = {}
for i = 1, #current, 2 do
  fields[current[i]] = current[i + 1]
end
local version = tonumber(fields.version or '0')
if expected and expected ~= version then
  return {0, version}
end
for field, value in pairs(changes) do
  fields[field] = value ~= '' and value or nil
end
fields.version, fields.update_ms = tostring(version + 1), tostring(now)
-- Written whole (DEL, then HSET): a cleared field is gone, with only the
-- commands the other scripts need (the least-privilege ACL has no HDEL).
local flat = {}
for field, value in pairs(fields) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
redis.call('DEL', key)
redis.call('HSET', key, unpack(flat))
return {1, redis.call('HGETALL', key)}
