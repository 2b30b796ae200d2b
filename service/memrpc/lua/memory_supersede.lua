-- MemorySupersede: marks an older long-term memory superseded by a newer one
-- that contradicts it (the consolidation job's language-model step,
-- store/consolidation.py): only if both still exist at the versions read
-- (the model judged those texts) and neither is superseded. It sets `sb` to
-- the newer memory's id and adds the superseded flag to `f` (searches and
-- listings then leave it out), keeps everything else (its version too), and
-- appends an event to the namespace's changes thread. Either memory, if a
-- JSON document of schema 2, is converted to a Hash first
-- (`memory_upgrade`). Bounded: a conversion and a read per memory, one
-- write, two XADDs.
--
-- KEYS[1] older: the superseded memory's key
-- KEYS[2] newer: the superseding memory's key
-- KEYS[3] stream: the changes thread's log
-- KEYS[4] feed: the namespace feed
-- ARGV[1] older_version: the older memory's version when read
-- ARGV[2] newer_version: the newer memory's version when read
-- ARGV[3] flag: the superseded flag's tag
-- ARGV[4] thread: the changes thread's id
-- ARGV[5] event_type: the event's type (`memrpc.memory_superseded`)
-- ARGV[6] log_max_len: the thread log's MAXLEN
-- ARGV[7] feed_max_len: the feed's MAXLEN
-- ARGV[8] vector_type: the type of the stored vectors (`FLOAT32`, `FLOAT16`)
-- Returns 1 when marked, 0 when either memory changed (nothing written).
check_shape(4, 4, 8, 0, 0)
local older, newer = KEYS[1], KEYS[2]
arg_integer(1, 1)
arg_integer(2, 1)
local flag, thread, event_type = arg_present(3), arg_present(4), arg_present(5)
local log_max_len, feed_max_len = arg_integer(6, 1), arg_integer(7, 1)
local vector_type = arg_vector_type(8)
if older == newer then
  bad_argument('a memory cannot supersede itself')
end

local old = memory_current(older, ARGV[1], vector_type, {'u', 't', 'f'})
local new = memory_current(newer, ARGV[2], vector_type, {'t'})
if not old or not new then
  return 0
end
memory_write(older, {'sb', new.id, 'f', memory_flags(old.f, flag, true)}, '')
local event = cjson.encode({memory_id = old.id, superseded_by_memory_id = new.id,
  user_id = unhex(old.u), text = old.t, superseding_text = new.t})
append_event(KEYS[3], KEYS[4], log_max_len, feed_max_len, thread,
  {'type', event_type, 'json', event})
return 1
