-- LeaseKeep: sets the time a periodic job's lease has left, if the lease is
-- still the caller's (it holds the caller's token): a runner shortens its
-- own lease after a run that left work or failed, never another's.
--
-- KEYS[1] lease: the lease String (`keys.lease`)
-- ARGV[1] token: the token the caller set it with
-- ARGV[2] ttl_ms: the time it has left from now, in ms
-- Returns 1 when the lease was the caller's (and was set), 0 when not.
check_shape(1, 1, 2, 0, 0)
local token, ttl_ms = arg_present(1), arg_integer(2, 1)
if redis.call('GET', KEYS[1]) ~= token then
  return 0
end
return redis.call('PEXPIRE', KEYS[1], ttl_ms)
