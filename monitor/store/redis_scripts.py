"""The Lua scripts of the Redis store: each runs atomically, in one round trip.

Every key a script touches carries the deployment's hash tag (keys.py), so on a Redis Cluster
they all live in one slot.
"""

# KEYS: outbox data, outbox queue, n claim keys, m seen keys, cursor key
# ARGV: n, m, claim ttl, seen ttl, due ms, cursor json, n x (id, entry), m x version
COMMIT = """
local n = tonumber(ARGV[1]); local m = tonumber(ARGV[2])
local due = tonumber(ARGV[5])
local won = {}
for i = 1, n do
  local id = ARGV[5 + 2 * i]; local entry = ARGV[6 + 2 * i]
  if redis.call('SET', KEYS[2 + i], entry, 'NX', 'EX', ARGV[3]) then
    redis.call('HSET', KEYS[1], id, entry)
    redis.call('ZADD', KEYS[2], due + i / 1000000, id)
    won[#won + 1] = id
  end
end
for j = 1, m do
  redis.call('SET', KEYS[2 + n + j], ARGV[6 + 2 * n + j], 'EX', ARGV[4])
end
redis.call('SET', KEYS[3 + n + m], ARGV[6])
return won
"""

# ARGV: requests JSON, window seconds, threshold, key prefix, now. Keys are derived here from
# the prefix (they all carry the deployment's hash tag, so they share the script's slot).
ASSIGN = """
local reqs = cjson.decode(ARGV[1])
local ttl = tonumber(ARGV[2]); local threshold = tonumber(ARGV[3]); local p = ARGV[4]
local now = tonumber(ARGV[5])
local function similarity(a, b)
  local n = math.floor(#a / 8)
  if n == 0 or #a ~= #b then return 0 end
  local same = 0
  for i = 1, n do
    if string.sub(a, 8 * i - 7, 8 * i) == string.sub(b, 8 * i - 7, 8 * i) then same = same + 1 end
  end
  return same / n
end
local out = {}
for _, r in ipairs(reqs) do
  local story = nil
  for _, a in ipairs(r.aliases) do
    story = redis.call('GET', p .. 'alias:' .. a)
    if story then break end
  end
  if not story and r.sig ~= '' then
    local best, score, looked = nil, threshold, {}
    for _, band in ipairs(r.bands) do
      for _, cand in ipairs(redis.call('SMEMBERS', p .. 'lsh:' .. band)) do
        if not looked[cand] then
          looked[cand] = true
          local other = redis.call('GET', p .. 'ssig:' .. cand)
          if not other then
            redis.call('SREM', p .. 'lsh:' .. band, cand)
          else
            local sim = similarity(r.sig, other)
            if sim >= score then best, score = cand, sim end
          end
        end
      end
    end
    story = best
  end
  local new = false
  if not story then
    story = r.id; new = true
    if r.sig ~= '' then redis.call('SET', p .. 'ssig:' .. story, r.sig, 'EX', ttl) end
  end
  for _, a in ipairs(r.aliases) do redis.call('SET', p .. 'alias:' .. a, story, 'NX', 'EX', ttl) end
  if new and r.sig ~= '' then
    for _, band in ipairs(r.bands) do
      redis.call('SADD', p .. 'lsh:' .. band, story)
      redis.call('EXPIRE', p .. 'lsh:' .. band, ttl)
    end
  end
  local mk = p .. 'smen:' .. story
  local known = redis.call('HSETNX', mk, r.key, r.mention) == 0
  if new then redis.call('EXPIRE', mk, ttl) end
  out[#out + 1] = {story, new and 1 or 0, known and 1 or 0, redis.call('HVALS', mk)}
end
return cjson.encode(out)
"""

# KEYS: data, queue, leased. ARGV: now ms, limit, lease-until ms
LEASE = """
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[2], now, id)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local out = {}
for k = 1, #ids, 2 do
  local id = ids[k]
  redis.call('ZREM', KEYS[2], id)
  local data = redis.call('HGET', KEYS[1], id)
  if data then
    redis.call('ZADD', KEYS[3], ARGV[3], id)
    out[#out + 1] = id; out[#out + 1] = data; out[#out + 1] = ids[k + 1]
  end
end
return out
"""

# KEYS: data, queue, leased, dead, receipt key, sent list. ARGV: id, sent-at ISO, receipt, ttl, keep
# (one round trip: the sent record is made here from the entry)
ACK = """
local data = redis.call('HGET', KEYS[1], ARGV[1])
if not data then return 0 end
local alert = cjson.decode(data)['alert']
local record = {alert_id = ARGV[1], sink_id = alert['sink_id'], target = alert['target'],
                title = alert['item']['title'], sent_at = ARGV[2], receipt = cjson.null}
if ARGV[3] ~= '' then record['receipt'] = ARGV[3] end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1]); redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('LPUSH', KEYS[6], cjson.encode(record))
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[5]) - 1)
if ARGV[3] ~= '' then redis.call('SET', KEYS[5], ARGV[3], 'EX', ARGV[4]) end
return 1
"""

# KEYS: data, queue, leased, dead. ARGV: id, new entry json, target ('queue'|'dead'), score ms
MOVE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1]); redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if ARGV[3] == 'dead' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
return 1
"""

# KEYS: queue, leased. ARGV: due ms, ids...: back to the queue in order, only if still leased
RELEASE = """
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + (i - 1) / 1000000, ARGV[i])
  end
end
return 1
"""

# KEYS: leased. ARGV: until ms, ids...: extend leases still held
TOUCH = """
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i]) end
return 1
"""

# KEYS: one zset per limit. ARGV: now ms, a unique member, then (rate, per ms) per limit.
# A sliding window shared by every replica: all limits allow one more send, or none is taken.
PACE = """
local now = tonumber(ARGV[1]); local wait = 0
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[1 + 2 * i]); local per = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - per)
  if redis.call('ZCARD', key) >= rate then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + per - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i])))
end
return '0'
"""
