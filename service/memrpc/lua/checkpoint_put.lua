-- PutCheckpoint: stores a checkpoint (replacing one with the same id, whose
-- pending writes are kept), its listing entry and its run's entry.
--
-- KEYS[1] thread: the Set of the thread's checkpoint namespaces
-- ARGV[1] thread_tag: the thread's tag
-- ARGV[2] cpns: the checkpoint namespace's tag
-- ARGV[3] checkpoint_id: the checkpoint's id
-- ARGV[4] run_tag: the run's tag, or '' for none
-- ARGV[5] run: the run id, or ''
-- ARGV[6] parent: the parent checkpoint's id, or ''
-- ARGV[7] metadata: a JSON object
-- ARGV[8] encoding: the state's encoding
-- ARGV[9] data: the state
-- ARGV[10] now_ms: the time of the write
-- ARGV[11] namespace: the namespace (lib/checkpoints.lua)
-- Returns now_ms.
check_shape(1, 1, 11, 0, 0)
local t, n, id = arg_present(1), arg_present(2), arg_present(3)
local run_tag = ARGV[4]
local now = arg_integer(10, 0)
local k = checkpoint_keys(11)
local thread = checkpoint_thread_key(k, 1, t)
local key = k.checkpoint(t, n, id)
local member = t .. ':' .. n .. ':' .. id
local old_run = redis.call('HGET', key, 'run_tag')
if old_run and old_run ~= '' and old_run ~= run_tag then
  redis.call('SREM', k.run(old_run), member)
end
redis.call('DEL', key)
redis.call('HSET', key, 'parent', ARGV[6], 'run', ARGV[5], 'run_tag', run_tag,
  'metadata', ARGV[7], 'encoding', ARGV[8], 'data', ARGV[9], 'update_ms', now)
redis.call('ZADD', k.index(t, n), 0, id)
redis.call('SADD', thread, n)
if run_tag ~= '' then
  redis.call('SADD', k.run(run_tag), member)
end
return now
