-- CopyCheckpointThread: copies a thread's checkpoints and pending writes,
-- in every checkpoint namespace, to another thread; a checkpoint of the
-- target with the same id is replaced, with its writes.
--
-- KEYS[1] source: the Set of the source thread's checkpoint namespaces
-- KEYS[2] target: the Set of the target thread's checkpoint namespaces
-- ARGV[1] source_thread: the source thread's tag
-- ARGV[2] target_thread: the target thread's tag
-- ARGV[3] namespace: the namespace (lib/checkpoints.lua)
-- Returns how many checkpoints were copied.
check_shape(2, 2, 3, 0, 0)
local s, d = arg_present(1), arg_present(2)
if s == d then
  bad_argument('the source and target threads are the same')
end
local k = checkpoint_keys(3)
local source = checkpoint_thread_key(k, 1, s)
local target = checkpoint_thread_key(k, 2, d)

local function copy_hash(from, to)
  local flat = redis.call('HGETALL', from)
  for i = 1, #flat, 2 do
    redis.call('HSET', to, flat[i], flat[i + 1])
  end
  return flat
end

local copied = 0
for _, n in ipairs(redis.call('SMEMBERS', source)) do
  local ids = redis.call('ZRANGE', k.index(s, n), 0, -1)
  local seen = {}
  for _, id in ipairs(ids) do
    seen[id] = true
  end
  for _, id in ipairs(redis.call('SMEMBERS', k.written(s, n))) do
    if not seen[id] then
      ids[#ids + 1] = id
    end
  end
  for _, id in ipairs(ids) do
    local from = k.checkpoint(s, n, id)
    if redis.call('EXISTS', from) == 1 then
      checkpoint_delete(k, d, n, id)
      copy_hash(from, k.checkpoint(d, n, id))
      redis.call('ZADD', k.index(d, n), 0, id)
      local run = redis.call('HGET', from, 'run_tag')
      if run and run ~= '' then
        redis.call('SADD', k.run(run), d .. ':' .. n .. ':' .. id)
      end
      copied = copied + 1
    end
    local writes = k.writes(s, n, id)
    if redis.call('EXISTS', writes) == 1 then
      copy_hash(writes, k.writes(d, n, id))
      redis.call('SADD', k.written(d, n), id)
    end
  end
  redis.call('SADD', target, n)
end
return copied
