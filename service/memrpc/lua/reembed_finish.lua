-- ReembedFinish: ends a move to another embedding model once every
-- namespace is done (store/reembed.py): the model moved to becomes the
-- default, with its field, the old default's field is kept as
-- `previous_field` (whose vectors the cleanup removes), and the record of
-- the move is deleted, in one step.
--
-- KEYS[1] record: the Hash `memrpc:model`
-- KEYS[2] next: the Hash `memrpc:model:next{memrpc:model}`
-- ARGV[1] fingerprint: the fingerprint of the model moved to
-- ARGV[2] now_ms: when the move ends
-- Returns 1 when it ended the move, 0 when `next` is not that model's (the
-- move ended already, or is another).
check_shape(2, 2, 2, 0, 0)
local fingerprint, now_ms = arg_present(1), arg_integer(2, 0)
if redis.call('HGET', KEYS[2], 'fingerprint') ~= fingerprint then
  return 0
end
local next = redis.call('HMGET', KEYS[2], 'name', 'dim', 'field')
local previous = redis.call('HGET', KEYS[1], 'field') or 'v'
redis.call('HSET', KEYS[1], 'name', next[1], 'dim', next[2], 'fingerprint', fingerprint,
  'recorded_ms', now_ms, 'field', next[3], 'previous_field', previous)
redis.call('DEL', KEYS[2])
return 1
