-- ReembedRead: what a step of the re-embed job (store/reembed.py) must
-- embed among memories of one namespace: the text hash and text of each
-- Hash lacking the vector field of the model moved to. A key gone, or a
-- JSON document of storage schema 2 (the migration converts it, a later
-- step finds it), needs nothing.
--
-- KEYS[1..] documents: memory keys of one namespace (a search's)
-- ARGV[1] prefix: the namespace's memory key prefix
-- ARGV[2] field: the Hash field of the new model's vectors
-- Returns per key: {} when it needs nothing, else {x, t}: its text hash and
-- text (false for one absent).
-- Bounded work: an EXISTS-like read per key, and the caller sends at most
-- `REEMBED_BATCH` keys (limits.py).
check_shape(1, nil, 2, 0, 0)
local prefix, field = arg_present(1), arg_present(2)
local results = {}
for i = 1, #KEYS do
  key_under(i, prefix)
end
for i = 1, #KEYS do
  local key = KEYS[i]
  results[i] = {}
  if redis.call('TYPE', key).ok == 'hash' and redis.call('HEXISTS', key, field) == 0 then
    results[i] = redis.call('HMGET', key, 'x', 't')
  end
end
return results
