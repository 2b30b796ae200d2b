-- SummaryFold: writes one fold of a session's running summary, only if the
-- session is still the one the fold was read from (the same `create_ms`),
-- nobody folded since (the same `folded_through`), and the fold covers no
-- more turns than have left the window and are not folded yet. A fold
-- changes neither `version` nor the time to live nor the listing indexes.
--
-- KEYS[1] session: the session Hash
-- ARGV[1] create_ms: the session's `create_ms` when the fold was read
-- ARGV[2] folded_through: its `folded_through` when the fold was read
-- ARGV[3] through: the new `folded_through`: the last folded turn's event
--   id (or, when every turn of the fold was trimmed from the log, the
--   newest of them that left the window)
-- ARGV[4] first: the first folded turn's event id ('' for none)
-- ARGV[5] last: the last folded turn's event id ('' for none)
-- ARGV[6] turns: how many turns the fold covers
-- ARGV[7] skipped: how many turns of the fold were trimmed from the log
-- ARGV[8] summary: the new summary text
-- ARGV[9] now_ms: now (ms)
-- ARGV[10] summarizer: the summarizer's name
-- Returns 1 when written, 0 when the session changed (nothing written).
check_shape(1, 1, 10, 0, 0)
local key = KEYS[1]
arg_integer(1, 0)
arg_present(2)
arg_present(3)
local turns, skipped = arg_integer(6, 0), arg_integer(7, 0)
local now = arg_integer(9, 0)
arg_present(10)
if turns + skipped == 0 then
  bad_argument('a fold covers at least one turn')
end
if (ARGV[4] == '') ~= (turns == 0) or (ARGV[5] == '') ~= (turns == 0) then
  bad_argument('first and last are set exactly when turns are folded')
end

if not session_cursor_holds(key, ARGV[1], 'folded_through', ARGV[2], 'summary_turns',
    'summary_skipped', turns + skipped) then
  return 0
end
redis.call('HSET', key, 'summary', ARGV[8], 'folded_through', ARGV[3], 'summary_ms', now,
  'summarizer', ARGV[10])
if turns > 0 then
  redis.call('HSETNX', key, 'summary_first', ARGV[4])
  redis.call('HSET', key, 'summary_last', ARGV[5])
  redis.call('HINCRBY', key, 'summary_turns', turns)
end
if skipped > 0 then
  redis.call('HINCRBY', key, 'summary_skipped', skipped)
end
return 1
