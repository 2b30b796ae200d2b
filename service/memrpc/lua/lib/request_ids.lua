-- Shared helpers: request ids (AIP-155). A request key, a String in KEYS,
-- remembers the first request that named its id, for a while: the JSON
-- array [fingerprint, response], where the fingerprint is a hash of that
-- request's content and the response what the script returned for it.
-- A script with a request id checks it first: a repeat of the same content
-- returns the first response and writes nothing; other content is refused.

-- The outcome a script's reply starts with (store/request_ids.py names the
-- same values): the request was carried out, replayed, or its id reused.
local REQUEST_DONE, REQUEST_REPLAYED, REQUEST_REUSED = 1, 2, 3

-- Checks, before the first write, that a request key (nil: no request id)
-- comes with a fingerprint and a time to remember it (`remember_ms`).
local function request_check(key, fingerprint, remember_ms)
  if key and (fingerprint == '' or remember_ms < 1) then
    bad_argument('a request key needs a fingerprint and a time to remember it')
  end
end

-- What an earlier request with the id of `key` got: REQUEST_REPLAYED and its
-- response when it had this `fingerprint`, REQUEST_REUSED when it had
-- another, nil when there was none (or no key).
local function request_recall(key, fingerprint)
  if not key then
    return nil
  end
  local earlier = redis.call('GET', key)
  if not earlier then
    return nil
  end
  local first = cjson.decode(earlier)
  if first[1] ~= fingerprint then
    return REQUEST_REUSED
  end
  return REQUEST_REPLAYED, first[2]
end

-- Remembers a request's `response` under `key` (nil: no request id) for
-- `remember_ms`.
local function request_remember(key, fingerprint, remember_ms, response)
  if key then
    redis.call('SET', key, cjson.encode({fingerprint, response}), 'PX', remember_ms)
  end
end
