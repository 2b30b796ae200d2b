-- ModelRecord: records the embedding model that makes the stored vectors,
-- unless a model is recorded already, and returns the record: the first
-- server or worker to start against a Redis records its model, every later
-- one reads the record to compare it with its own (`store/model_record.py`).
--
-- KEYS[1] record: the Hash `memrpc:model`
-- ARGV[1] name: the model's name
-- ARGV[2] dim: the length of its vectors
-- ARGV[3] fingerprint: the hex digest of the files that decide its vectors
-- ARGV[4] now_ms: when it is recorded
-- Returns {name, dim, fingerprint, recorded_ms, recorded}: the record's fields
-- (false for one missing) and 1 when this call made it, else 0.
check_shape(1, 1, 4, 0, 0)
local name, dim = arg_present(1), arg_integer(2, 1)
local fingerprint = arg_present(3)
if not string.match(fingerprint, '^%x+$') then
  bad_argument('ARGV[3] must be hex digits, not ' .. fingerprint)
end
local now_ms = arg_integer(4, 0)
local recorded = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'name', name, 'dim', dim, 'fingerprint', fingerprint,
    'recorded_ms', now_ms)
  recorded = 1
end
local record = redis.call('HMGET', KEYS[1], 'name', 'dim', 'fingerprint', 'recorded_ms')
record[5] = recorded
return record
