-- PutCheckpointWrites: records pending writes against a checkpoint (stored
-- or not yet). A regular write is kept as first stored; a special one
-- replaces the one stored under its field.
--
-- KEYS[1] thread: the Set of the thread's checkpoint namespaces
-- ARGV[1] thread_tag: the thread's tag
-- ARGV[2] cpns: the checkpoint namespace's tag
-- ARGV[3] checkpoint_id: the checkpoint's id
-- ARGV[4] namespace: the namespace (lib/checkpoints.lua)
-- ARGV[5..] writes: (field, value, replace: '1' or '0') triples
-- Returns how many writes were stored.
check_shape(1, 1, 4, 3, 1)
local t, n, id = arg_present(1), arg_present(2), arg_present(3)
local k = checkpoint_keys(4)
local thread = checkpoint_thread_key(k, 1, t)
for i = 5, #ARGV, 3 do
  arg_present(i)
  arg_choice(i + 2, {['0'] = true, ['1'] = true})
end
local key = k.writes(t, n, id)
local stored = 0
for i = 5, #ARGV, 3 do
  if ARGV[i + 2] == '1' then
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
    stored = stored + 1
  else
    stored = stored + redis.call('HSETNX', key, ARGV[i], ARGV[i + 1])
  end
end
redis.call('SADD', k.written(t, n), id)
redis.call('SADD', thread, n)
return stored
