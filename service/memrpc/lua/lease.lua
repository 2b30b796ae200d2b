-- Lease: a periodic job's lease of a namespace (store/leases.py). `take`
-- takes it (`SET NX PX`), or tells how long the runner that holds it keeps
-- it, so that other runners need not ask again before then; `keep` sets
-- the time it has left, only while it is still the caller's (it holds the
-- caller's token): a runner shortens its own lease, never another's.
--
-- KEYS[1] lease: the lease String (`keys.lease`)
-- ARGV[1] action: `take` or `keep`
-- ARGV[2] token: the caller's token
-- ARGV[3] ttl_ms: how long the lease is to last from now, in ms
-- Returns, for `take`, 0 when the caller took it, else the ms its holder
-- keeps it still; for `keep`, 1 when the lease was the caller's (and was
-- set), 0 when not.
check_shape(1, 1, 3, 0, 0)
local action = arg_choice(1, {take = true, keep = true})
local token, ttl_ms = arg_present(2), arg_integer(3, 1)
if action == 'take' then
  if redis.call('SET', KEYS[1], token, 'NX', 'PX', ttl_ms) then
    return 0
  end
  return math.max(1, redis.call('PTTL', KEYS[1]))
end
if redis.call('GET', KEYS[1]) ~= token then
  return 0
end
return redis.call('PEXPIRE', KEYS[1], ttl_ms)
