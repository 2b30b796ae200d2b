-- GetCheckpoint, ListCheckpoints: reads checkpoints of a checkpoint
-- namespace with their pending writes, in one step.
--
-- KEYS[1] thread: the Set of the thread's checkpoint namespaces
-- ARGV[1] thread_tag: the thread's tag
-- ARGV[2] cpns: the checkpoint namespace's tag
-- ARGV[3] checkpoint_id: the one checkpoint to read, or '' for the highest ids
-- ARGV[4] before: the highest id's bound, as ZREVRANGEBYLEX takes it ('+' or '(<id>')
-- ARGV[5] count: how many checkpoints to read at most
-- ARGV[6] namespace: the namespace (lib/checkpoints.lua)
-- Returns {id, checkpoint fields, write fields and values} per checkpoint,
-- highest id first.
check_shape(1, 1, 6, 0, 0)
local t, n = arg_present(1), arg_present(2)
local count = arg_integer(5, 1)
local k = checkpoint_keys(6)
checkpoint_thread_key(k, 1, t)
local ids
if ARGV[3] ~= '' then
  ids = {ARGV[3]}
else
  ids = redis.call('ZREVRANGEBYLEX', k.index(t, n), arg_present(4), '-', 'LIMIT', 0, count)
end
local found = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', k.checkpoint(t, n, id))
  if #fields > 0 then
    found[#found + 1] = {id, fields, redis.call('HGETALL', k.writes(t, n, id))}
  end
end
return found
