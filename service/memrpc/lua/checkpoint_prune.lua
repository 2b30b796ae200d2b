-- DeleteCheckpointThread, PruneCheckpoints: deletes a thread's checkpoints
-- and pending writes in every checkpoint namespace, keeping the newest
-- checkpoint of each (with its writes, and the writes of higher ids) when
-- asked to.
--
-- KEYS[1] thread: the Set of the thread's checkpoint namespaces
-- ARGV[1] thread_tag: the thread's tag
-- ARGV[2] keep: 1 to keep the newest checkpoint of each namespace, else 0
-- ARGV[3] namespace: the namespace (lib/checkpoints.lua)
-- Returns how many checkpoints were deleted.
check_shape(1, 1, 3, 0, 0)
local t = arg_present(1)
local keep = arg_integer(2, 0, 1)
local k = checkpoint_keys(3)
local thread = checkpoint_thread_key(k, 1, t)
local deleted = 0
for _, n in ipairs(redis.call('SMEMBERS', thread)) do
  local latest = nil
  if keep == 1 then
    latest = redis.call('ZRANGE', k.index(t, n), -1, -1)[1]
  end
  for _, id in ipairs(redis.call('ZRANGE', k.index(t, n), 0, -1 - keep)) do
    deleted = deleted + checkpoint_delete(k, t, n, id)
  end
  for _, id in ipairs(redis.call('SMEMBERS', k.written(t, n))) do
    if latest == nil or id < latest then
      checkpoint_delete(k, t, n, id)
    end
  end
  checkpoint_ns_tidy(k, t, n)
end
return deleted
