-- Destroys a consumer group of a namespace feed.
--
-- KEYS[1]: the feed. ARGV[1]: the group.
-- Returns 1, or 0 when the feed or the group does not exist (XGROUP DESTROY
-- alone fails on a missing key).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
return redis.call('XGROUP', 'DESTROY', KEYS[1], ARGV[1])
