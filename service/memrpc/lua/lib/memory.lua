-- Shared helpers of the long-term memory scripts. A memory is the Hash `key`
-- of storage schema 4, whose fields are the table of
-- store/memory_document.py; or, until the migration has converted it, a JSON
-- document of schema 2, which a script converts in place (`memory_upgrade`)
-- before it reads or writes the key. Searches look in both indexes until the
-- migration drops the legacy one.

-- The fields a read returns, in order (memory_document.READ_FIELDS).
local MEMORY_READ = {'id', 'n', 'u', 'th', 'k', 'tp', 't', 'md', 'c', 'um', 'e', 'h', 'vr',
  'ev', 'src', 'se', 'sm', 'em', 'p', 'ac', 'la', 'mg', 'sb'}
-- The types of stored vectors (memory_document.VectorType).
local VECTOR_TYPES = {FLOAT32 = true, FLOAT16 = true}
-- The separator of the list-valued fields `tp`, `f` and `mt`.
local TAG_SEPARATOR = ','
-- The flag of a pinned memory in `f` (memory_index.Flag.PINNED).
local PINNED = 'pinned'

-- ARGV[i], a vector type.
local function arg_vector_type(i)
  return arg_choice(i, VECTOR_TYPES)
end

-- Whether `name` is a field of a model's vectors (`v`, or `v_<f>` of a
-- model moved to: memory_index.model_field), which only the scripts write.
local function is_vector_field(name)
  return name == 'v' or string.match(name, '^v_%x+$') ~= nil
end

-- ARGV[i], the Hash fields of a new memory as a JSON object of non-empty
-- strings, holding at least `id` and `c`, and neither a vector field nor `q`
-- (the script writes those): decoded.
local function arg_document(i)
  local ok, document = pcall(cjson.decode, ARGV[i])
  if not ok or type(document) ~= 'table' or not document.id or not document.c then
    bad_argument('ARGV[' .. i .. '] must be a JSON object of memory fields with id and c')
  end
  for name, value in pairs(document) do
    if type(value) ~= 'string' or value == '' or is_vector_field(name) or name == 'q' then
      bad_argument('ARGV[' .. i .. '] holds a field the caller may not write: ' .. tostring(name))
    end
  end
  return document
end

-- A `keys.tag_value` read back: the value it was made from.
local function unhex(value)
  if value == 'none' then
    return ''
  end
  return (string.gsub(value, '%x%x', function(pair) return string.char(tonumber(pair, 16)) end))
end

-- The flat list `pairs` followed by the fields `fields` (by name), in the
-- order of their names: every memory's Hash holds its fields in one order.
local function memory_pairs(fields, pairs)
  local names = {}
  for name in next, fields do
    names[#names + 1] = name
  end
  table.sort(names)
  for _, name in ipairs(names) do
    pairs[#pairs + 1] = name
    pairs[#pairs + 1] = fields[name]
  end
  return pairs
end

-- -- Vectors ---------------------------------------------------------------

-- `x` (at least 0) rounded to an integer, ties to even.
local function round_even(x)
  local whole = math.floor(x)
  local rest = x - whole
  if rest > 0.5 or (rest == 0.5 and whole % 2 == 1) then
    return whole + 1
  end
  return whole
end

-- The IEEE half-precision bits of the float32 value `x`, rounded to the
-- nearest, ties to even (as numpy's `astype(float16)`); beyond the largest
-- half, infinity. Every step is exact in a double.
local function half_bits(x)
  local sign = 0
  if x < 0 or (x == 0 and 1 / x < 0) then
    sign, x = 0x8000, -x
  end
  if x >= 65536 then
    return sign + 0x7C00
  end
  if x < 2 ^ -14 then
    -- Subnormal: a count of 2^-24 (1024 of them make the smallest normal).
    return sign + round_even(x * 2 ^ 24)
  end
  -- x = fraction * 2^exponent, fraction in [0.5, 1): 11 significant bits,
  -- the first implicit; a rounding up to 2048 carries into the exponent.
  local fraction, exponent = math.frexp(x)
  return sign + (exponent + 14) * 1024 + round_even(fraction * 2048) - 1024
end

-- The value of IEEE half-precision `bits` (no NaN: vectors hold none).
local function half_value(bits)
  local sign = bits >= 0x8000 and -1 or 1
  local exponent, fraction = math.floor(bits / 1024) % 32, bits % 1024
  if exponent == 0 then
    return sign * fraction * 2 ^ -24
  elseif exponent == 31 then
    return sign * math.huge
  end
  return sign * (1024 + fraction) * 2 ^ (exponent - 25)
end

-- `values` (numbers) as the blob of `vector_type`, little-endian: each
-- rounded to float32, then for FLOAT16 to half precision.
local function vector_blob(values, vector_type)
  local format = '<' .. string.rep('f', #values)
  local blob = struct.pack(format, unpack(values))
  if vector_type == 'FLOAT32' then
    return blob
  end
  -- The float32 values, then the position after them (not a value).
  local rounded = {struct.unpack(format, blob)}
  local bits = {}
  for i = 1, #values do
    bits[i] = half_bits(rounded[i])
  end
  return struct.pack('<' .. string.rep('H', #values), unpack(bits))
end

-- A blob of `vector_type` as a FLOAT32 blob (the legacy index's type), exactly.
local function vector_float32(blob, vector_type)
  if vector_type == 'FLOAT32' then
    return blob
  end
  local n = #blob / 2
  local bits = {struct.unpack('<' .. string.rep('H', n), blob)}
  local values = {}
  for i = 1, n do
    values[i] = half_value(bits[i])
  end
  return struct.pack('<' .. string.rep('f', n), unpack(values))
end

-- -- Schema 2 to schema 4 ---------------------------------------------------

-- An integer of a JSON document as a field's value; nil when it is absent,
-- null or `default`.
local function upgrade_integer(value, default)
  if value == nil or value == cjson.null or value == default then
    return nil
  end
  return string.format('%.0f', value)
end

-- A list of strings of a JSON document as a list-valued TAG field's value;
-- nil when it is absent or empty.
local function upgrade_tags(values)
  if values == nil or #values == 0 then
    return nil
  end
  return table.concat(values, TAG_SEPARATOR)
end

-- Schema 2's hex TAG of a text (32 digits of its hash) as schema 4's `x`:
-- the number its first 13 digits make (memory_index.text_hash).
local function upgrade_text_hash(tag)
  return string.format('%.0f', tonumber(string.sub(tag, 1, 13), 16))
end

-- Schema 2's metadata TAGs (32 hex digits each) as schema 4's `mt`: the
-- first 16 digits of each (memory_index.metadata_tag); nil for none.
local function upgrade_metadata_tags(tags)
  if tags == nil or #tags == 0 then
    return nil
  end
  local short = {}
  for i, tag in ipairs(tags) do
    short[i] = string.sub(tag, 1, 16)
  end
  return table.concat(short, TAG_SEPARATOR)
end

-- A list or object of a JSON document as JSON; nil when it is absent or empty.
local function upgrade_json(value)
  if value == nil or next(value) == nil then
    return nil
  end
  return cjson.encode(value)
end

-- A string of a JSON document as a field's value; nil when it is absent or empty.
local function upgrade_string(value)
  if value == nil or value == '' then
    return nil
  end
  return value
end

-- Converts the memory `key` from a JSON document of storage schema 2 to its
-- Hash (the field table of memory_document.py: a field absent when it holds
-- its default), its embedding packed as `vector_type`, its expiry kept.
-- Nothing for a Hash or a missing key; an `UNREADABLE` error, before any
-- write, for a JSON document that is no memory of schema 2
-- (store/set_aside.py). The one converter: the migration
-- (memory_upgrade.lua) and every script touching a memory call it.
-- Bounded: a JSON.GET of one document, a DEL, an HSET of at most 31 fields.
local function memory_upgrade(key, vector_type)
  if redis.call('TYPE', key).ok ~= 'ReJSON-RL' then
    return
  end
  local document = cjson.decode(redis.call('JSON.GET', key))
  local memory, tags = document.memory, document.tags
  if type(memory) ~= 'table' or type(tags) ~= 'table' or type(document.embedding) ~= 'table' then
    error({err = 'UNREADABLE memrpc: not a memory of storage schema 2: ' .. key})
  end
  local fields = {
    id = memory.id, n = tags.ns, s = tags.scope, u = tags.user, th = tags.thread, k = tags.kind,
    tp = upgrade_tags(tags.topics), x = upgrade_text_hash(tags.text), t = memory.text,
    md = upgrade_json(memory.metadata), mt = upgrade_metadata_tags(tags.meta),
    c = upgrade_integer(memory.create_ms),
    um = upgrade_integer(memory.update_ms, memory.create_ms),
    e = upgrade_integer(memory.expire_ms, 0),
    v = vector_blob(document.embedding, vector_type),
    h = upgrade_integer(memory.hit_count), vr = upgrade_integer(memory.version, 1),
    f = upgrade_tags(tags.flags),
    -- Schema 2 wrote a memory's creation as its recall until a search's.
    r = upgrade_integer(document.recalled_ms, memory.create_ms),
    ev = upgrade_integer(memory.event_ms), q = upgrade_integer(document.seq),
    src = upgrade_string(memory.source), se = upgrade_json(memory.source_event_ids),
    sm = upgrade_integer(memory.start_ms, 0), em = upgrade_integer(memory.end_ms, 0),
    p = memory.pinned == true and '1' or nil,
    ac = upgrade_integer(memory.access_count, 0), la = upgrade_integer(memory.last_access_ms, 0),
    mg = upgrade_json(memory.merged_ids), sb = upgrade_string(memory.superseded_by),
  }
  local expires = redis.call('PEXPIRETIME', key)
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(memory_pairs(fields, {})))
  if expires > 0 then
    redis.call('PEXPIREAT', key, expires)
  end
end

-- -- Reads -----------------------------------------------------------------

-- The memory of `key` as a read returns it: its `MEMORY_READ` fields, false
-- for an absent one (a nil in the reply); nil when it is gone.
local function memory_read(key)
  local found = redis.call('HMGET', key, unpack(MEMORY_READ))
  if found[1] then
    return found
  end
end

-- The fields `names` and `id` of the memory `key`, by name (false when
-- absent); nil when it is gone.
local function memory_get(key, names)
  local found = redis.call('HMGET', key, 'id', unpack(names))
  if not found[1] then
    return nil
  end
  local values = {id = found[1]}
  for i, name in ipairs(names) do
    values[name] = found[i + 1]
  end
  return values
end

-- The memory's version: 0 when it does not exist, 1 when its `vr` is absent.
local function memory_version(key)
  local found = redis.call('HMGET', key, 'id', 'vr')
  if not found[1] then
    return 0
  end
  return tonumber(found[2]) or 1
end

-- The version check of a write: the current version, and whether it is the
-- `expected` one ('' for any).
local function memory_expected(key, expected)
  local version = memory_version(key)
  return version, expected == '' or tonumber(expected) == version
end

-- The fields `names` (by name, as `memory_get`) of the memory `key`,
-- converted to `vector_type` first, when it exists at `version` and is not
-- superseded; nil otherwise (gone, changed, or superseded since read).
local function memory_current(key, version, vector_type, names)
  memory_upgrade(key, vector_type)
  local found = memory_get(key, {'vr', 'sb', unpack(names)})
  if not found or (tonumber(found.vr) or 1) ~= tonumber(version) or found.sb then
    return nil
  end
  return found
end

-- -- Writes ----------------------------------------------------------------

-- The value of `f` (`flags`, false when absent) with `flag` in it (`on`) or
-- not, the other flags kept in order; '' for none. Flags are plain words
-- (`memory_index.Flag`).
local function memory_flags(flags, flag, on)
  local found = {}
  for word in string.gmatch(flags or '', '[^' .. TAG_SEPARATOR .. ']+') do
    if word ~= flag then
      found[#found + 1] = word
    end
  end
  if on then
    found[#found + 1] = flag
  end
  return table.concat(found, TAG_SEPARATOR)
end

-- Writes (field, value) `pairs` (a flat list; a value '' removes the field)
-- to the Hash `key`, then sets its expiry: `expire_ms` '' keeps it, '0'
-- removes it, else it is the PEXPIREAT time.
local function memory_write(key, pairs, expire_ms)
  local set, removed = {}, {}
  for j = 1, #pairs, 2 do
    if pairs[j + 1] == '' then
      removed[#removed + 1] = pairs[j]
    else
      set[#set + 1] = pairs[j]
      set[#set + 1] = pairs[j + 1]
    end
  end
  if #set > 0 then
    redis.call('HSET', key, unpack(set))
  end
  if #removed > 0 then
    redis.call('HDEL', key, unpack(removed))
  end
  if expire_ms == '0' then
    redis.call('PERSIST', key)
  elseif expire_ms ~= '' then
    redis.call('PEXPIREAT', key, expire_ms)
  end
end

-- Pins the memory `key` unless it is: a change of its content, so a new
-- version, updated at `now_ms`.
local function memory_pin(key, now_ms)
  local found = memory_get(key, {'p', 'f', 'vr'})
  if found.p then
    return
  end
  memory_write(key, {'p', '1', 'f', memory_flags(found.f, PINNED, true),
    'vr', tostring((tonumber(found.vr) or 1) + 1), 'um', now_ms}, '')
end

-- -- Dedup -----------------------------------------------------------------
-- The searches pass TIMEOUT 0, as a search cut short by the module's timeout
-- (500 ms, returning partial results by default) could miss a duplicate.
-- They skip `self` and keys outside the prefix or gone meanwhile.

-- The dedup arguments ARGV[i .. i + 4] of a script, checked: the search
-- index, the legacy index ('' for none), the vector type, the max dedup
-- distance (0: exact text only) and the namespace's memory key prefix.
local function arg_dedup(i)
  return {
    index = arg_present(i), legacy_index = ARGV[i + 1], vector_type = arg_vector_type(i + 2),
    max_distance = arg_number(i + 3, 0, 2), prefix = arg_present(i + 4),
  }
end

-- How many arguments an item of dedup_insert.lua and memory_form.lua takes
-- (script_args.insert_item).
local ITEM_ARGS = 9

-- ARGV[i], a vector field (`is_vector_field`); '' too when `optional`.
local function arg_vector_field(i, optional)
  if not (optional and ARGV[i] == '') and not is_vector_field(ARGV[i]) then
    bad_argument('ARGV[' .. i .. '] is not a vector field: ' .. tostring(ARGV[i]))
  end
  return ARGV[i]
end

-- The vector fields to write: `vector` in `field`, and `other_vector` in
-- `other_field` unless it is '' (the other model of a move), as a flat list.
local function vector_pairs(field, vector, other_field, other_vector)
  if other_field == '' then
    return {field, vector}
  end
  return {field, vector, other_field, other_vector}
end

-- The item at ARGV[i .. i + 8], checked: its dedup queries (`exact`,
-- `legacy_exact`: the same of the legacy index, `knn`), its vector (a blob
-- of the vector type: the KNN query's parameter), the vector field it is
-- written to, another vector field ('' for none) and the vector written
-- there (the other model's, during a move), its expire ms ('' or '0': none,
-- else the PEXPIREAT time) and its document (decoded by `arg_document`).
local function arg_item(i)
  arg_present(i + 3)
  local field, other_field = arg_vector_field(i + 4), arg_vector_field(i + 5, true)
  if other_field ~= '' then
    arg_present(i + 6)
  end
  arg_optional_integer(i + 7, 0)
  return {
    queries = {exact = ARGV[i], legacy_exact = ARGV[i + 1], knn = ARGV[i + 2]},
    vector = ARGV[i + 3],
    vectors = vector_pairs(field, ARGV[i + 3], other_field, ARGV[i + 6]),
    expire_ms = ARGV[i + 7], document = arg_document(i + 8),
  }
end

-- The reply of an FT.SEARCH of `query` with `options` over `index`; over
-- the legacy index (`legacy`), nil when there is none ('' or dropped).
local function memory_search(index, legacy, query, options)
  if not legacy then
    return redis.call('FT.SEARCH', index, query, unpack(options))
  end
  if index == '' then
    return nil
  end
  local found = redis.pcall('FT.SEARCH', index, query, unpack(options))
  if found.err then
    if string.find(found.err, 'no such index', 1, true) then
      return nil
    end
    error(found)
  end
  return found
end

local function memory_is_other(key, self, prefix)
  return key ~= self and string.sub(key, 1, #prefix) == prefix
    and redis.call('EXISTS', key) == 1
end

-- A live memory other than `self` with the same normalised text (`query`)
-- in `index` (`legacy`: the legacy one).
local function memory_same_text(dedup, index, legacy, self, query)
  local found = memory_search(index, legacy, query,
    {'NOCONTENT', 'LIMIT', 0, 2, 'TIMEOUT', 0, 'DIALECT', 2})
  for i = 2, #(found or {}) do
    if memory_is_other(found[i], self, dedup.prefix) then
      return found[i]
    end
  end
end

-- The nearest live memory other than `self` within the max distance of
-- `vector` (`query`: a KNN query) in `index` (`legacy`: the legacy one), and
-- its distance (as Redis wrote it).
local function memory_nearest(dedup, index, legacy, self, query, vector)
  local found = memory_search(index, legacy, query, {'PARAMS', 2, 'v', vector,
    'RETURN', 1, 'd', 'SORTBY', 'd', 'LIMIT', 0, 2, 'TIMEOUT', 0, 'DIALECT', 2})
  for i = 2, #(found or {}), 2 do
    local distance = found[i + 1][2]
    if tonumber(distance) <= dedup.max_distance and memory_is_other(found[i], self, dedup.prefix) then
      return found[i], distance
    end
  end
end

-- The memory that an item with these queries repeats (nil: none), and its
-- distance ('0' for the same text), in either index: the nearer, the
-- current index's on a tie; converted to the current schema. `queries` are
-- the item's `exact` text query, the same for the legacy index
-- (`legacy_exact`) and its `knn` query: an empty `exact` skips the text
-- check, an empty `knn` the vector check; `vector` is of the dedup's vector
-- type.
local function memory_duplicate(dedup, self, queries, vector)
  local index, legacy = dedup.index, dedup.legacy_index
  local exact, knn = queries.exact, queries.knn
  local duplicate, distance
  if exact ~= '' then
    duplicate = memory_same_text(dedup, index, false, self, exact)
      or memory_same_text(dedup, legacy, true, self, queries.legacy_exact)
    distance = '0'
  end
  if not duplicate and knn ~= '' then
    duplicate, distance = memory_nearest(dedup, index, false, self, knn, vector)
    if legacy ~= '' then
      local old, old_distance = memory_nearest(dedup, legacy, true, self, knn,
        vector_float32(vector, dedup.vector_type))
      if old and (not duplicate or tonumber(old_distance) < tonumber(distance)) then
        duplicate, distance = old, old_distance
      end
    end
  end
  if duplicate then
    memory_upgrade(duplicate, dedup.vector_type)
    return duplicate, distance
  end
end

-- Creates the memory `key` of `item` (`arg_item`): its document's Hash
-- fields and its vectors, expiring at its expire ms, unless it repeats
-- another (see `memory_duplicate`):
-- then that one gains a hit instead, and is pinned if the item is. Returns
-- the repeated memory's key and distance, or nil when `key` was written. A
-- written memory takes the next number of the namespace's counter
-- `sequence` as its `q` (the order memories were written in, which hybrid
-- recall's neighbours follow; store/recall.py). `key` is new (a new id),
-- or (`replaced`: its `c` and `vr`, as `memory_get` reads them) a
-- client-chosen id's memory to replace: it is then written anew, keeping
-- its `c`, its version one more, updated at the document's `c`. Never a
-- document of schema 2 (whose ids are ULIDs): nothing to convert.
local function memory_insert(dedup, sequence, key, item, replaced)
  local document = item.document
  local duplicate, distance = memory_duplicate(dedup, key, item.queries, item.vector)
  if duplicate then
    redis.call('HINCRBY', duplicate, 'h', 1)
    if document.p == '1' then
      memory_pin(duplicate, document.um or document.c)
    end
    return duplicate, distance
  end
  if replaced then
    redis.call('DEL', key)
    document.um = document.c
    document.c = replaced.c
    document.vr = tostring((tonumber(replaced.vr) or 1) + 1)
  end
  local fields = {'q', redis.call('INCR', sequence)}
  for _, part in ipairs(item.vectors) do
    fields[#fields + 1] = part
  end
  fields = memory_pairs(document, fields)
  memory_write(key, fields, item.expire_ms == '0' and '' or item.expire_ms)
end
