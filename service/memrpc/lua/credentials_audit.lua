-- CredentialsAudit: compares a credentials file's entries (id and a digest
-- of each one's definition) with those last recorded, and when they differ
-- records the new ones and appends an audit record to the server-wide log:
-- operation and credential the file's kind, namespace `*`, code `OK`,
-- details `{"added": [...], "removed": [...], "changed": [...]}` (each list
-- sorted, absent when empty). Every server process of a deployment runs it
-- on each load of the file: the first one records a change, the others find
-- nothing new. Bounded: one read and one write of the entries, one XADD.
--
-- KEYS[1] state: the Hash of the entries last recorded (id to digest)
-- KEYS[2] log: the server-wide audit log
-- ARGV[1] max_len: the log's MAXLEN
-- ARGV[2] source: the file's kind (`keys-file`, `jwks-file`)
-- ARGV[3..] entries: id, digest pairs
-- Returns 1 when the entries differed (and were recorded), else 0.
check_shape(2, 2, 2, 2, 1)
local state, log = KEYS[1], KEYS[2]
local max_len = arg_integer(1, 1)
local source = arg_present(2)
local new = {}
for i = 3, #ARGV, 2 do
  new[ARGV[i]] = ARGV[i + 1]
end
local old = {}
local flat = redis.call('HGETALL', state)
for i = 1, #flat, 2 do
  old[flat[i]] = flat[i + 1]
end
local added, removed, changed = {}, {}, {}
for id, digest in pairs(new) do
  if old[id] == nil then
    added[#added + 1] = id
  elseif old[id] ~= digest then
    changed[#changed + 1] = id
  end
end
for id in pairs(old) do
  if new[id] == nil then
    removed[#removed + 1] = id
  end
end
if #added + #removed + #changed == 0 then
  return 0
end
local details = {}
for name, list in pairs({added = added, removed = removed, changed = changed}) do
  if #list > 0 then
    table.sort(list)
    details[name] = list
  end
end
redis.call('DEL', state)
redis.call('HSET', state, unpack(ARGV, 3))
redis.call('XADD', log, 'MAXLEN', '~', max_len, '*', 'credential', source,
  'operation', source, 'code', 'OK', 'reason', '', 'details', cjson.encode(details))
return 1
