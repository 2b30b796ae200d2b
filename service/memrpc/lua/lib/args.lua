-- Shared helpers: argument checks, prepended to every script. A script
-- checks all its arguments before its first write, so that a malformed call
-- (a bug of the caller) fails with `ERR memrpc: bad argument ...` and leaves
-- every key as it was.

local function bad_argument(what)
  error({err = 'ERR memrpc: bad argument: ' .. what})
end

-- KEYS holds `n_keys` to `max_keys` keys (nil: no most); ARGV holds
-- `n_args` arguments, then (with `group` > 0) whole groups of `group` more,
-- at least `min_groups` of them.
local function check_shape(n_keys, max_keys, n_args, group, min_groups)
  if #KEYS < n_keys or (max_keys and #KEYS > max_keys) then
    local expected = max_keys == n_keys and n_keys or (n_keys .. ' or more')
    if max_keys and max_keys ~= n_keys then
      expected = n_keys .. ' to ' .. max_keys
    end
    bad_argument('expected ' .. expected .. ' keys, not ' .. #KEYS)
  end
  local extra = #ARGV - n_args
  if extra < 0 or (group == 0 and extra ~= 0) or (group > 0 and extra % group ~= 0)
    or (group > 0 and extra / group < min_groups) then
    bad_argument('wrong number of arguments: ' .. #ARGV)
  end
end

-- ARGV[i] as an integer from `low` to `high` (nil: no most).
local function arg_integer(i, low, high)
  local value = tonumber(ARGV[i])
  high = high and math.floor(high)
  if not value or value ~= math.floor(value) or value < low or (high and value > high) then
    local range = high and ('from ' .. low .. ' to ' .. high) or ('of at least ' .. low)
    bad_argument('ARGV[' .. i .. '] must be an integer ' .. range .. ', not ' ..
      tostring(ARGV[i]))
  end
  return value
end

-- ARGV[i] as a number from `low` to `high`.
local function arg_number(i, low, high)
  local value = tonumber(ARGV[i])
  if not value or value ~= value or value < low or value > high then
    bad_argument('ARGV[' .. i .. '] must be a number from ' .. low .. ' to ' .. high ..
      ', not ' .. tostring(ARGV[i]))
  end
  return value
end

-- ARGV[i], which must not be empty.
local function arg_present(i)
  if ARGV[i] == nil or ARGV[i] == '' then
    bad_argument('ARGV[' .. i .. '] must not be empty')
  end
  return ARGV[i]
end

-- ARGV[i], which must be one of `choices` (a set).
local function arg_choice(i, choices)
  if not choices[ARGV[i]] then
    bad_argument('ARGV[' .. i .. '] is not an expected value: ' .. tostring(ARGV[i]))
  end
  return ARGV[i]
end

-- ARGV[i]: '' (returned as nil) or an integer from `low`.
local function arg_optional_integer(i, low)
  if ARGV[i] == '' then
    return nil
  end
  return arg_integer(i, low)
end

-- KEYS[i], which must start with `prefix` (a namespace's key prefix).
local function key_under(i, prefix)
  if string.sub(KEYS[i], 1, #prefix) ~= prefix then
    bad_argument('KEYS[' .. i .. '] is not under the prefix')
  end
  return KEYS[i]
end
