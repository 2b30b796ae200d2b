-- Destroys a consumer group of a namespace feed.
--
-- KEYS[1] feed: the namespace feed
-- ARGV[1] group: the group's name
-- Returns 1, or 0 when the feed or the group does not exist (XGROUP DESTROY
-- alone fails on a missing key).
check_shape(1, 1, 1, 0, 0)
local group = arg_present(1)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
return redis.call('XGROUP', 'DESTROY', KEYS[1], group)
