-- Checkpoint keys and deletions (`store/checkpoints.py`). The keys are those
-- of `store/keys.py` (`checkpoint_*`, which tests/test_checkpoints.py checks
-- against these): `memrpc:<kind>:{<namespace>}:`, the namespace ARGV[i],
-- followed by the tags of a thread (`t`), a checkpoint namespace (`n`), a
-- checkpoint id or a run.

local function checkpoint_keys(i)
  local ns = arg_present(i)
  local stems = {}
  for j, kind in ipairs({'cpthread', 'cpidx', 'cpwrote', 'cp', 'cpw', 'cprun'}) do
    stems[j] = 'memrpc:' .. kind .. ':{' .. ns .. '}:'
  end
  return {
    thread = function(t) return stems[1] .. t end,
    index = function(t, n) return stems[2] .. t .. ':' .. n end,
    written = function(t, n) return stems[3] .. t .. ':' .. n end,
    checkpoint = function(t, n, id) return stems[4] .. t .. ':' .. n .. ':' .. id end,
    writes = function(t, n, id) return stems[5] .. t .. ':' .. n .. ':' .. id end,
    run = function(run) return stems[6] .. run end,
  }
end

-- KEYS[i], which must be the Set of the checkpoint namespaces of thread `t`.
local function checkpoint_thread_key(k, i, t)
  if KEYS[i] ~= k.thread(t) then
    bad_argument('KEYS[' .. i .. '] is not the thread of ARGV')
  end
  return KEYS[i]
end

-- Deletes a checkpoint: its Hash, its pending writes, its entries in the
-- listing and in its run's Set. Returns 1 when the checkpoint was stored
-- (writes alone count 0).
local function checkpoint_delete(k, t, n, id)
  local key = k.checkpoint(t, n, id)
  local run = redis.call('HGET', key, 'run_tag')
  if run and run ~= '' then
    redis.call('SREM', k.run(run), t .. ':' .. n .. ':' .. id)
  end
  redis.call('DEL', k.writes(t, n, id))
  redis.call('SREM', k.written(t, n), id)
  redis.call('ZREM', k.index(t, n), id)
  return redis.call('DEL', key)
end

-- Forgets checkpoint namespace `n` of thread `t` once it holds nothing.
local function checkpoint_ns_tidy(k, t, n)
  if redis.call('ZCARD', k.index(t, n)) == 0 and redis.call('SCARD', k.written(t, n)) == 0 then
    redis.call('SREM', k.thread(t), n)
  end
end
