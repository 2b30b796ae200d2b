-- DeleteCheckpointRuns: deletes the checkpoints of runs, with their pending
-- writes, in every thread.
--
-- KEYS[1..] runs: the Sets of the runs' checkpoints
-- ARGV[1] namespace: the namespace (lib/checkpoints.lua)
-- Returns how many checkpoints were deleted.
check_shape(1, nil, 1, 0, 0)
local k = checkpoint_keys(1)
local deleted = 0
for _, run in ipairs(KEYS) do
  for _, member in ipairs(redis.call('SMEMBERS', run)) do
    local t, n, id = string.match(member, '^([^:]+):([^:]+):([^:]+)$')
    if t then
      deleted = deleted + checkpoint_delete(k, t, n, id)
      checkpoint_ns_tidy(k, t, n)
    end
  end
  redis.call('DEL', run)
end
return deleted
