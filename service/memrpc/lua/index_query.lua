-- One search of a namespace's memories on a Redis Cluster
-- (`store/memory_indexes.py`). Its two keys are of the namespace's slot and
-- never exist, so it never runs while the slot is moving (the nodes answer
-- `ASK` or `TRYAGAIN`). Search cannot read the Hash of a hit whose slot is
-- not the index name's (it returns no fields for it): the fields `loaded`
-- are read here from each hit's key, after those the search returned.
--
-- KEYS[1] probe: a key of the namespace's slot that is never written
-- KEYS[2] prefix: the namespace's memory key prefix (never a key either)
-- ARGV[1] scored: 1 when the command has `WITHSCORES` (each hit is its key,
--   its score, then its fields), else 0
-- ARGV[2] loaded: how many of `words` are Hash fields to read of each hit
-- ARGV[3..] words: those fields, then the `FT.SEARCH` command (its
--   `RETURN` naming only values Search computes, or `NOCONTENT`), or an
--   `FT.AGGREGATE` that reads only sortable fields (with no field loaded)
-- Returns the search's reply, each hit's fields followed by those read
-- (those the Hash holds).
check_shape(2, 2, 3, 1, 0)
local scored = arg_integer(1, 0, 1) == 1
local loaded = arg_integer(2, 0, #ARGV - 3)
local command = ARGV[loaded + 3]
if command ~= 'FT.SEARCH' and (command ~= 'FT.AGGREGATE' or loaded > 0) then
  bad_argument('ARGV[' .. (loaded + 3) .. '] must be FT.SEARCH (or FT.AGGREGATE, none loaded)')
end
local fields = {unpack(ARGV, 3, loaded + 2)}
local found = redis.call(unpack(ARGV, loaded + 3))
if loaded == 0 then
  return found
end
-- Each hit is its key (then its score, `scored`), then its fields (a list,
-- or nil when Search could not read them) unless `NOCONTENT`.
local reply = {found[1]}
local i = 2
while i <= #found do
  local key = found[i]
  reply[#reply + 1] = key
  if scored then
    i = i + 1
    reply[#reply + 1] = found[i]
  end
  local listed = found[i + 1]
  local hit = type(listed) == 'table' and listed or {}
  local values = redis.call('HMGET', key, unpack(fields))
  for j = 1, loaded do
    if values[j] then
      hit[#hit + 1] = fields[j]
      hit[#hit + 1] = values[j]
    end
  end
  reply[#reply + 1] = hit
  i = i + (type(listed) == 'string' and 1 or 2)
end
return reply
