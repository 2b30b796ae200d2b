-- Gives up on a feed entry for a background job: copies it to the
-- namespace's dead-letter stream with the job, its deliveries and its last
-- error, and acknowledges it for the job's group, atomically, and only if
-- it is still pending for that group (so two runners giving up on the same
-- entry record it once).
--
-- KEYS[1] feed: the namespace feed
-- KEYS[2] dead: the namespace's dead-letter stream
-- ARGV[1] group: the job's consumer group
-- ARGV[2] entry_id: the feed entry's id
-- ARGV[3] deliveries: how many times it was delivered
-- ARGV[4] error: why the job failed, last time
-- ARGV[5] dead_max_len: the dead-letter stream's MAXLEN (~)
-- Returns 1 when the entry was recorded and acknowledged, 0 when it was no
-- longer pending (acknowledged or given up on by another runner).
-- Bounded work: one entry read, one XADD, one XACK.
check_shape(2, 2, 5, 0, 0)
local feed, dead = KEYS[1], KEYS[2]
local group, entry_id = arg_present(1), arg_present(2)
local deliveries, max_len = arg_integer(3, 0), arg_integer(5, 1)
if redis.call('XACK', feed, group, entry_id) == 0 then
  return 0
end
local fields = {'job', group, 'entry_id', entry_id, 'deliveries', deliveries, 'error', ARGV[4]}
local entry = redis.call('XRANGE', feed, entry_id, entry_id)[1]
if entry then
  for _, value in ipairs(entry[2]) do
    fields[#fields + 1] = value
  end
else
  fields[#fields + 1] = 'trimmed'
  fields[#fields + 1] = '1'
end
redis.call('XADD', dead, 'MAXLEN', '~', max_len, '*', unpack(fields))
return 1
