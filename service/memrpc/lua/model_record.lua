-- ModelRecord: records the embedding model that makes the stored vectors,
-- unless a model is recorded already, and the model a move goes to (when
-- given, the record is the given model's and no move is recorded yet);
-- returns both records: the first server or worker to start against a
-- Redis records its model, every later one reads the records to compare
-- them with its own (`store/model_record.py`).
--
-- KEYS[1] record: the Hash `memrpc:model`
-- KEYS[2] next: the Hash `memrpc:model:next{memrpc:model}`
-- ARGV[1] name: the model's name
-- ARGV[2] dim: the length of its vectors
-- ARGV[3] fingerprint: the hex digest of the files that decide its vectors
-- ARGV[4] now_ms: when it is recorded
-- ARGV[5] next_name: the name of the model to move to ('' for none)
-- ARGV[6] next_dim: the length of its vectors (0 for none)
-- ARGV[7] next_fingerprint: its fingerprint ('' for none)
-- ARGV[8] next_field: the Hash field of its vectors ('' for none)
-- Returns {name, dim, fingerprint, recorded_ms, field, recorded, next_name,
-- next_dim, next_fingerprint, next_recorded_ms, next_field}: the records'
-- fields (false for one missing; the record's `field` missing means `v`)
-- and 1 when this call made the record, else 0.
check_shape(2, 2, 8, 0, 0)
local name, dim = arg_present(1), arg_integer(2, 1)
local function arg_hex(i)
  if not string.match(ARGV[i], '^%x+$') then
    bad_argument('ARGV[' .. i .. '] must be hex digits, not ' .. ARGV[i])
  end
  return ARGV[i]
end
local fingerprint = arg_hex(3)
local now_ms = arg_integer(4, 0)
local next_name, next_dim, next_fingerprint, next_field = ARGV[5], nil, nil, nil
if next_name ~= '' then
  next_dim, next_fingerprint, next_field = arg_integer(6, 1), arg_hex(7), arg_present(8)
end
local recorded = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'name', name, 'dim', dim, 'fingerprint', fingerprint,
    'recorded_ms', now_ms)
  recorded = 1
end
if next_name ~= '' then
  if redis.call('HGET', KEYS[1], 'fingerprint') == fingerprint
      and redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('HSET', KEYS[2], 'name', next_name, 'dim', next_dim,
      'fingerprint', next_fingerprint, 'recorded_ms', now_ms, 'field', next_field)
  end
end
local record = redis.call('HMGET', KEYS[1], 'name', 'dim', 'fingerprint', 'recorded_ms', 'field')
record[6] = recorded
local next = redis.call('HMGET', KEYS[2], 'name', 'dim', 'fingerprint', 'recorded_ms', 'field')
for i = 1, 5 do
  record[6 + i] = next[i]
end
return record
