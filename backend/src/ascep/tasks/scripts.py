"""The Lua scripts behind every change of a task record: each is one atomic check-and-set.

A record's status moves only through these, so "start" and "cancel", a worker finishing and the
reaper declaring it lost, a stale run and its re-run can never both win. The ``run_id`` field is
a fencing token: only the run that started a record may report progress, renew its lease or
finish it, so a process presumed dead that wakes up later cannot overwrite a newer run's record.
"""

from __future__ import annotations

# KEYS[1] record. ARGV[1] allowed statuses (comma-separated); ARGV[2] new status; ARGV[3] '1' to
# count an attempt; ARGV[4] run id the record must hold ('' = any); ARGV[5] epoch ms: a 'running'
# record qualifies only if its lease ended before it ('' = no lease check); ARGV[6] TTL in
# seconds; ARGV[7..] field/value pairs (an empty value deletes the field).
# Returns {moved, status before, attempts after}.
TRANSITION = """
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {0, '', 0} end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'run_id') ~= ARGV[4] then return {0, current, 0} end
if ARGV[5] ~= '' and current == 'running' then
  local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_ms') or '0')
  if lease >= tonumber(ARGV[5]) then return {0, current, 0} end
end
for allowed in string.gmatch(ARGV[1], '[^,]+') do
  if allowed == current then
    redis.call('HSET', KEYS[1], 'status', ARGV[2])
    if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
    for i = 7, #ARGV, 2 do
      if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
      else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
    end
    redis.call('EXPIRE', KEYS[1], ARGV[6])
    return {1, current, tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')}
  end
end
return {0, current, 0}
"""

# KEYS[1] record. ARGV[1] run id; ARGV[2] progress; ARGV[3] message.
# Stored only while that run is running and no cancel was requested: a cancelled task keeps the
# progress it had reached. Returns {1, HGETALL...} when stored, {0} when the run must stop.
PROGRESS = """
local f = redis.call('HMGET', KEYS[1], 'status', 'run_id', 'cancel_requested')
if f[1] ~= 'running' or f[2] ~= ARGV[1] or (f[3] and f[3] ~= '0') then return {0} end
redis.call('HSET', KEYS[1], 'progress', ARGV[2], 'message', ARGV[3])
local out = {1}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = v end
return out
"""

# KEYS[1..n] records; ARGV[1] lease end (epoch ms); ARGV[2..n+1] run ids (same order).
# Renews each lease still held by that run; returns how many were renewed.
RENEW = """
local renewed = 0
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'status', 'run_id')
  if f[1] == 'running' and f[2] == ARGV[i + 1] then
    redis.call('HSET', key, 'lease_ms', ARGV[1])
    renewed = renewed + 1
  end
end
return renewed
"""
