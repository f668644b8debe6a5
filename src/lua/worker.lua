-- worker.lua: `require "moonwatch.worker"`, a Redis Streams worker:
-- one of a group of processes that score the entries of a set of input
-- streams with one pipeline per series, write what they find to an
-- output stream, and take over each other's work when one dies. The
-- `moonwatch worker` command is this module's run(); docs/scaling.md
-- explains the design to users, this comment to maintainers.
--
-- Partitioning. Entries of one series must be scored in order by one
-- pipeline, so a series lives in one shard: producers write series `s`
-- to the stream KEY:<mw.redis.shard(s, SHARDS)> (FNV-1a of the name).
-- Each shard is read by at most one worker at a time: the owner of its
-- lease, the key KEY:<i>:lease (SET NX PX, renewed every lease/3). A
-- worker owns about SHARDS / (live workers) shards (live: a heartbeat in
-- the sorted set KEY:workers within the last lease), takes free shards
-- up to that share and releases those beyond it.
--
-- Commit. After scoring a batch of a shard the worker runs one Redis
-- script (COMMIT below) that, atomically and only while it still owns
-- the lease: XACKs the batch, XADDs its outputs (and dead letters), and
-- when a checkpoint is due HSETs the saved state of each series changed
-- since the last one into KEY:<i>:state with "@id", the last entry the
-- states cover. If XACK acknowledges nothing, the batch was committed
-- before (a retry after a lost reply) and nothing is written again.
--
-- Takeover (recover): a worker that acquires a shard (or finds entries
-- of its shard pending for another consumer, or reconnected to Redis)
-- drops its pipelines of the shard, loads the checkpoint, claims every
-- pending entry (XAUTOCLAIM ... 0 JUSTID: the lease proves their reader
-- is gone), and replays the stream from after "@id" to the group's
-- last-delivered-id: entries that were acknowledged only rebuild the
-- state, the pending ones are scored and written. So each entry's output
-- is written once and the scores are those of one uninterrupted run.
--
-- Never lost, never blocking: a malformed entry (no series, a value that
-- is not a number) is acknowledged into the dead-letter stream with the
-- reason and logged; a lost connection is retried with backoff (the
-- client logs each attempt) and followed by a recover of every shard.
local mw = require "moonwatch"
local pipeline = require "moonwatch.pipeline"

local M = {}

M.defaults = {
  host = "127.0.0.1", port = 6379,
  shards = 16,            -- input streams KEY:0 .. KEY:<shards-1>
  count = 500,            -- entries per read, per shard
  block = 500,            -- ms a read waits for entries
  lease = 10,             -- seconds: a dead worker's shards are taken over after this
  checkpoint_every = 10000,   -- entries of a shard between checkpoints
  checkpoint_interval = 10,   -- ... or seconds, whichever comes first
  scores = false,         -- write every score, not only the anomalies
  retry = 300,            -- seconds to keep retrying a lost connection
  timeout = 5,            -- seconds: connect and reply timeout
}

-- The commit, run by Redis atomically. KEYS: lease, input stream, output
-- stream, state hash, dead-letter stream. ARGV: consumer, group, lease
-- ms, then the counts of ids, outputs, dead letters and state pairs, the
-- trim id ("" for none), then the ids, the outputs (6 values each: series,
-- id, ts, value, score, anomaly), the dead letters (3 each: id, fields,
-- error) and the state pairs. Returns -1 without the lease, 0 for a batch
-- committed before, else the entries acknowledged.
local COMMIT = [[
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local n_ids, n_out, n_dead, n_state = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local at = 9
local acked = 0
if n_ids > 0 then
  local ids = {}
  for i = 1, n_ids do ids[i] = ARGV[at + i - 1] end
  acked = redis.call('XACK', KEYS[2], ARGV[2], unpack(ids))
  if acked == 0 then return 0 end
end
at = at + n_ids
for i = 1, n_out do
  redis.call('XADD', KEYS[3], '*', 'series', ARGV[at], 'id', ARGV[at + 1], 'ts', ARGV[at + 2],
             'value', ARGV[at + 3], 'score', ARGV[at + 4], 'anomaly', ARGV[at + 5])
  at = at + 6
end
for i = 1, n_dead do
  redis.call('XADD', KEYS[5], '*', 'id', ARGV[at], 'stream', KEYS[2], 'entry', ARGV[at + 1],
             'error', ARGV[at + 2])
  at = at + 3
end
local i = 0
while i < n_state do
  local chunk = {}
  for k = 1, math.min(n_state - i, 500) do
    chunk[#chunk + 1] = ARGV[at]; chunk[#chunk + 1] = ARGV[at + 1]
    at = at + 2; i = i + 1
  end
  redis.call('HSET', KEYS[4], unpack(chunk))
end
if ARGV[8] ~= '' then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[8]) end
return acked
]]

local RENEW = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
]]

local RELEASE = [[
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
]]

local function fmt_num(x)
  if x ~= x then return "nan" end
  return string.format("%.17g", x)
end

-- "1700000000000-3" < "1700000000000-12": compares stream ids.
local function id_less(a, b)
  local am, as = a:match("^(%d+)-(%d+)$")
  local bm, bs = b:match("^(%d+)-(%d+)$")
  am, bm = math.tointeger(tonumber(am)), math.tointeger(tonumber(bm))
  if am ~= bm then return am < bm end
  return math.tointeger(tonumber(as)) < math.tointeger(tonumber(bs))
end

-- The fields of an XREADGROUP/XRANGE entry ({f1, v1, ...}) as a table.
local function fields_of(list)
  local t = {}
  if type(list) ~= "table" then return nil end
  for i = 1, #list - 1, 2 do t[list[i]] = list[i + 1] end
  return t
end

local function fields_text(f)
  if not f then return "(deleted)" end
  local keys = {}
  for k in pairs(f) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(f[k]) end
  return table.concat(parts, " ")
end

local Worker = {}
Worker.__index = Worker

--- A worker for opts (M.defaults for what is not given; required: stream,
--- group, consumer; pipeline defaults to "default", params to ""). Does
--- not connect yet.
function M.new(opts)
  local o = {}
  for k, v in pairs(M.defaults) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  for _, name in ipairs{"stream", "group", "consumer"} do
    if type(o[name]) ~= "string" or o[name] == "" then
      error(string.format("worker: option '%s' is required", name), 0)
    end
  end
  o.out_stream = o.out_stream or (o.stream .. ":out")
  o.dead_stream = o.dead_stream or (o.out_stream .. ":dead")
  o.pipeline = o.pipeline or "default"
  o.params = o.params or ""
  if math.type(o.shards) ~= "integer" or o.shards < 1 then error("worker: shards must be an integer >= 1", 0) end
  if not (o.lease > 0) then error("worker: lease must be > 0 seconds", 0) end
  local w = setmetatable({o = o, shards = {}, n_owned = 0, stats = {
    entries = 0, outputs = 0, anomalies = 0, dead = 0, replayed = 0, takeovers = 0, checkpoints = 0,
    reconnects = 0,
  }}, Worker)
  w.log = o.log or function(line) io.stderr:write("moonwatch worker: ", line, "\n") end
  -- The pipeline: checked once here, so a bad spec fails before any read.
  local probe = pipeline.feed(o.pipeline, o.params)
  if not pipeline.can_save(probe.def, probe.params) then
    error(string.format("pipeline '%s' cannot save its state (no method save): workers checkpoint it",
                        probe.def.name), 0)
  end
  local keys = {}
  for k in pairs(probe.params) do keys[#keys + 1] = k end
  table.sort(keys)
  local sig = {probe.def.name}
  for _, k in ipairs(keys) do sig[#sig + 1] = k .. "=" .. tostring(probe.params[k]) end
  w.signature = table.concat(sig, " ")
  w.pipeline_name = probe.def.name
  probe:release()
  w.lease_ms = math.max(1, math.floor(o.lease * 1000 + 0.5))
  return w
end

function Worker:key(i) return self.o.stream .. ":" .. i end

function Worker:call(...)
  local r, err = self.conn:call(...)
  if r == nil and err then error(string.format("redis %s: %s", (...), err), 0) end
  return r
end

-- The time on the Redis server, in ms: the heartbeats of workers on
-- different machines compare on one clock.
function Worker:server_ms()
  local t = self:call("TIME")
  return math.tointeger(tonumber(t[1])) * 1000 + math.tointeger(tonumber(t[2])) // 1000
end

function Worker:connect()
  local conn, err = mw.redis.connect{host = self.o.host, port = self.o.port, timeout = self.o.timeout,
                                     retry = self.o.retry, log = self.log}
  if not conn then error(err, 0) end
  self.conn = conn
  self.reconnects = conn:reconnects()
  for i = 0, self.o.shards - 1 do
    local ok, err2 = conn:call("XGROUP", "CREATE", self:key(i), self.o.group, "0", "MKSTREAM")
    if not ok and not tostring(err2):find("BUSYGROUP", 1, true) then
      error(string.format("XGROUP CREATE %s %s: %s", self:key(i), self.o.group, err2), 0)
    end
  end
end

-- {====================================================================
-- Shards: scoring, committing, taking over
-- ======================================================================

function Worker:new_shard(i)
  local key = self:key(i)
  return {index = i, key = key, lease_key = key .. ":lease", state_key = key .. ":state",
          feed = pipeline.feed(self.o.pipeline, self.o.params), dirty = {}, since = 0,
          last_ckpt = mw.time.now(), last_id = nil, valid_until = 0}
end

function Worker:drop_shard(sh)
  sh.feed:release()
  self.shards[sh.index] = nil
  self.n_owned = self.n_owned - 1
end

-- Scores entries ({id, fields, emit}) of a shard, in order; returns the
-- commit's ids, outputs and dead letters (for the entries with emit).
function Worker:score(sh, entries)
  local ids, outs, dead = {}, {}, {}
  local groups, order = {}, {}
  for _, e in ipairs(entries) do
    local f, reason = e.fields, nil
    local series = f and f.series
    local value = f and tonumber(f.value)
    local ts = f and f.ts
    if not f then
      reason = "entry was deleted"
    elseif type(series) ~= "string" or series == "" then
      reason = "no field 'series'"
    elseif f.value == nil then
      reason = "no field 'value'"
    elseif value == nil then
      reason = string.format("field 'value' is not a number ('%s')", f.value)
    elseif ts ~= nil and tonumber(ts) == nil then
      reason = string.format("field 'ts' is not a number ('%s')", ts)
    end
    if reason then
      if e.emit then
        ids[#ids + 1] = e.id
        dead[#dead + 1] = {e.id, fields_text(f), reason}
        self.stats.dead = self.stats.dead + 1
        self.log(string.format("%s: entry %s of %s: %s (sent to %s)", self.o.consumer, e.id, sh.key,
                               reason, self.o.dead_stream))
      end
    else
      local g = groups[series]
      if not g then
        g = {ids = {}, values = {}, ts = {}, emit = {}}
        groups[series] = g
        order[#order + 1] = series
      end
      local k = #g.ids + 1
      g.ids[k], g.values[k], g.ts[k], g.emit[k] = e.id, value, ts or "", e.emit
    end
  end
  for _, series in ipairs(order) do
    local g = groups[series]
    local values = mw.series(g.values)
    local scores, hits = sh.feed:push(series, values)
    values:release()
    local anomaly = {}
    for _, i in ipairs(hits) do anomaly[i] = true end
    for i = 1, #g.ids do
      if g.emit[i] then
        ids[#ids + 1] = g.ids[i]
        local a = anomaly[i] or false
        if a then self.stats.anomalies = self.stats.anomalies + 1 end
        if a or self.o.scores then
          outs[#outs + 1] = {series, g.ids[i], g.ts[i], fmt_num(g.values[i]), fmt_num(scores[i]), a and "1" or "0"}
        end
      else
        self.stats.replayed = self.stats.replayed + 1
      end
    end
    if scores.release then scores:release() end
    sh.dirty[series] = true
  end
  sh.since = sh.since + #entries
  if #entries > 0 then sh.last_id = entries[#entries].id end
  return ids, outs, dead
end

-- Commits a scored batch (and a checkpoint when due or forced). Returns
-- false when the lease is lost (the shard is dropped).
function Worker:commit(sh, ids, outs, dead, force_ckpt)
  local o = self.o
  local state = {}
  local ckpt = sh.last_id and (force_ckpt or sh.since >= o.checkpoint_every
                               or mw.time.now() - sh.last_ckpt >= o.checkpoint_interval)
  if ckpt then
    local n = 0
    for series in pairs(sh.dirty) do
      state[#state + 1] = "s:" .. series
      state[#state + 1] = sh.feed:save(series)
      n = n + 1
    end
    state[#state + 1] = "@id"; state[#state + 1] = sh.last_id
    state[#state + 1] = "@pipeline"; state[#state + 1] = self.signature
  end
  if #ids == 0 and not ckpt then return true end
  local argv = {"EVAL", COMMIT, 5, sh.lease_key, sh.key, o.out_stream, sh.state_key, o.dead_stream,
                o.consumer, o.group, self.lease_ms, #ids, #outs, #dead, #state // 2,
                (ckpt and o.trim) and sh.last_id or ""}
  for _, id in ipairs(ids) do argv[#argv + 1] = id end
  for _, out in ipairs(outs) do
    for k = 1, 6 do argv[#argv + 1] = out[k] end
  end
  for _, d in ipairs(dead) do
    for k = 1, 3 do argv[#argv + 1] = d[k] end
  end
  for _, v in ipairs(state) do argv[#argv + 1] = v end
  local t0 = mw.time.now()
  local r = self:call(table.unpack(argv))
  if r == -1 then
    self.log(string.format("%s: lost the lease of %s; another worker has it now", o.consumer, sh.key))
    self:drop_shard(sh)
    return false
  end
  if r ~= 0 then
    self.stats.outputs = self.stats.outputs + #outs
    self.stats.entries = self.stats.entries + #ids - #dead
  end
  sh.valid_until = t0 + o.lease * 0.9   -- the script renewed the lease
  if ckpt then
    sh.dirty, sh.since, sh.last_ckpt = {}, 0, mw.time.now()
    self.stats.checkpoints = self.stats.checkpoints + 1
  end
  return true
end

-- Takes over shard sh (see the top of the file): checkpoint, pending
-- entries, replay. Returns false if the lease was lost meanwhile.
function Worker:recover(sh)
  local o = self.o
  sh.recovered = self.conn:reconnects()
  sh.feed:release()
  sh.feed = pipeline.feed(o.pipeline, o.params)
  sh.dirty, sh.since, sh.last_ckpt, sh.last_id = {}, 0, mw.time.now(), nil
  local h = self:call("HGETALL", sh.state_key)
  local saved = {}
  for i = 1, #h - 1, 2 do saved[h[i]] = h[i + 1] end
  if saved["@pipeline"] and saved["@pipeline"] ~= self.signature then
    error(string.format("the checkpoint of %s was made by pipeline '%s'; this worker runs '%s'",
                        sh.key, saved["@pipeline"], self.signature), 0)
  end
  for k, v in pairs(saved) do
    local series = k:match("^s:(.*)$")
    if series then sh.feed:restore(series, v) end
  end
  local from = saved["@id"] or "0-0"
  sh.last_id = saved["@id"]
  -- Every pending entry of the shard becomes ours.
  local pending, n_pending = {}, 0
  local cursor = "0-0"
  repeat
    local r = self:call("XAUTOCLAIM", sh.key, o.group, o.consumer, 0, cursor, "COUNT", 1000, "JUSTID")
    cursor = r[1]
    for _, id in ipairs(r[2]) do pending[id] = true; n_pending = n_pending + 1 end
  until cursor == "0-0"
  local last_delivered = "0-0"
  for _, g in ipairs(self:call("XINFO", "GROUPS", sh.key)) do
    local info = fields_of(g)
    if info.name == o.group then last_delivered = info["last-delivered-id"] end
  end
  -- Replay (from, last_delivered]: acknowledged entries rebuild the state
  -- silently; pending ones are scored and written.
  local replayed, done = 0, {}
  if id_less(from, last_delivered) then
    local start = "(" .. from
    while true do
      local batch = self:call("XRANGE", sh.key, start, last_delivered, "COUNT", o.count)
      if #batch == 0 then break end
      local entries = {}
      for k, e in ipairs(batch) do
        entries[k] = {id = e[1], fields = fields_of(e[2]), emit = pending[e[1]] == true}
        if pending[e[1]] then done[e[1]] = true end
      end
      replayed = replayed + #entries
      local ids, outs, dead = self:score(sh, entries)
      if not self:commit(sh, ids, outs, dead, false) then return false end
      start = "(" .. batch[#batch][1]
      if #batch < o.count then break end
    end
  end
  -- Pending entries at or before the checkpoint (or deleted) are done.
  local stale = {}
  for id in pairs(pending) do if not done[id] then stale[#stale + 1] = id end end
  if #stale > 0 and not self:commit(sh, stale, {}, {}, false) then return false end
  self.stats.takeovers = self.stats.takeovers + 1
  if last_delivered ~= "0-0" then   -- a shard read before: a takeover
    self.log(string.format("%s: took over %s from checkpoint %s: %d entries replayed, %d pending claimed",
                           o.consumer, sh.key, saved["@id"] or "(none)", replayed, n_pending))
  end
  return true
end

-- }====================================================================

-- {====================================================================
-- Leases and the group's membership
-- ======================================================================

-- Renews the leases, drops those lost, takes or releases shards toward
-- this worker's share. Called every lease/3.
function Worker:beat()
  local o = self.o
  local t0 = mw.time.now()
  local now_ms = self:server_ms()
  local members = o.stream .. ":workers"
  self:call("ZADD", members, now_ms, o.consumer)
  self:call("ZREMRANGEBYSCORE", members, "-inf", now_ms - self.lease_ms)
  local live = math.max(1, self:call("ZCARD", members))
  local share = (o.shards + live - 1) // live
  for i, sh in pairs(self.shards) do
    if self:call("EVAL", RENEW, 1, sh.lease_key, o.consumer, self.lease_ms) == 1 then
      sh.valid_until = t0 + o.lease * 0.9
    else
      self.log(string.format("%s: lost the lease of %s", o.consumer, sh.key))
      self:drop_shard(sh)
    end
    local _ = i
  end
  -- Entries of an owned shard pending for someone else: a reader that
  -- lost the lease read them; take the shard over again, in order.
  for _, sh in pairs(self.shards) do
    local p = self:call("XPENDING", sh.key, o.group)
    local others = false
    for _, c in ipairs(type(p[4]) == "table" and p[4] or {}) do
      if c[1] ~= o.consumer then others = true end
    end
    if others then self:recover(sh) end
  end
  -- Too many: release the highest (after a last checkpoint).
  while self.n_owned > share do
    local top
    for i in pairs(self.shards) do if not top or i > top then top = i end end
    self:release(self.shards[top])
  end
  -- Too few: take free shards, starting at a place of our own.
  if self.n_owned < share and (self.started_beats or 0) >= 1 then
    local start = mw.redis.shard(o.consumer, o.shards)
    for k = 0, o.shards - 1 do
      if self.n_owned >= share then break end
      local i = (start + k) % o.shards
      if not self.shards[i] then
        local key = self:key(i)
        local t1 = mw.time.now()
        if self:call("SET", key .. ":lease", o.consumer, "NX", "PX", self.lease_ms) then
          local sh = self:new_shard(i)
          sh.valid_until = t1 + o.lease * 0.9
          self.shards[i] = sh
          self.n_owned = self.n_owned + 1
          self:recover(sh)
        end
      end
    end
  end
  self.started_beats = (self.started_beats or 0) + 1
end

-- Gives a shard up: a checkpoint of everything scored, then the lease.
function Worker:release(sh)
  if sh.last_id then self:commit(sh, {}, {}, {}, true) end
  if self.shards[sh.index] then
    self:call("EVAL", RELEASE, 1, sh.lease_key, self.o.consumer)
    self:drop_shard(sh)
  end
end

-- Whether every shard's entries have all been read and acknowledged.
function Worker:drained()
  for i = 0, self.o.shards - 1 do
    local key = self:key(i)
    local stream = fields_of(self:call("XINFO", "STREAM", key))
    for _, g in ipairs(self:call("XINFO", "GROUPS", key)) do
      local info = fields_of(g)
      if info.name == self.o.group then
        if info.pending ~= 0 or info["last-delivered-id"] ~= stream["last-generated-id"] then return false end
      end
    end
  end
  return true
end

-- }====================================================================

-- One read of the owned shards whose lease is safely ours, scored and
-- committed. Returns the entries read.
function Worker:step()
  local o = self.o
  local now = mw.time.now()
  local keys, ids, by_key = {}, {}, {}
  for _, sh in pairs(self.shards) do
    if sh.valid_until > now + o.block / 1000 then
      keys[#keys + 1] = sh.key
      ids[#ids + 1] = ">"
      by_key[sh.key] = sh
    end
  end
  if #keys == 0 then
    -- Nothing to read: wait on the server (BLPOP on a key nobody
    -- writes) rather than spin.
    self:call("BLPOP", o.stream .. ":idle", string.format("%.3f", o.block / 1000))
    return 0
  end
  local argv = {"XREADGROUP", "GROUP", o.group, o.consumer, "COUNT", o.count, "BLOCK", o.block, "STREAMS"}
  for _, k in ipairs(keys) do argv[#argv + 1] = k end
  for _, id in ipairs(ids) do argv[#argv + 1] = id end
  local r = self:call(table.unpack(argv))
  if not r then
    for _, sh in pairs(self.shards) do
      if sh.since > 0 then self:commit(sh, {}, {}, {}, false) end   -- a due checkpoint
    end
    return 0
  end
  if self.conn:reconnects() ~= self.reconnects then return 0 end   -- the caller recovers
  local n = 0
  for _, stream in ipairs(r) do
    local sh = by_key[stream[1]]
    local entries = {}
    for k, e in ipairs(stream[2]) do
      entries[k] = {id = e[1], fields = fields_of(e[2]), emit = true}
    end
    n = n + #entries
    if sh and self.shards[sh.index] == sh and #entries > 0 then
      local bids, outs, dead = self:score(sh, entries)
      self:commit(sh, bids, outs, dead, false)
    end
  end
  return n
end

--- Runs until stopped (idle_exit: seconds without entries, once every
--- shard is drained, after which it releases its shards and returns its
--- figures: entries, outputs, anomalies, dead, replayed, takeovers,
--- checkpoints, reconnects, seconds).
function Worker:run()
  local o = self.o
  if not self.conn then self:connect() end
  local t0 = mw.time.now()
  local next_beat, idle_since = 0, mw.time.now()
  while true do
    local now = mw.time.now()
    if now >= next_beat then
      self:beat()
      next_beat = now + o.lease / 3
    end
    if self.conn:reconnects() ~= self.reconnects then
      self.reconnects = self.conn:reconnects()
      self.stats.reconnects = self.stats.reconnects + 1
      self:beat()   -- renews (or drops) the leases first
      for _, sh in pairs(self.shards) do
        if sh.recovered ~= self.reconnects then self:recover(sh) end
      end
    end
    local n = self:step()
    if n > 0 then
      idle_since = mw.time.now()
    elseif o.idle_exit and mw.time.now() - idle_since >= o.idle_exit then
      if self:drained() then break end
      idle_since = mw.time.now() - o.idle_exit / 2   -- look again a little later
    end
  end
  for _, sh in pairs(self.shards) do self:release(sh) end
  self:call("ZREM", o.stream .. ":workers", o.consumer)
  self.stats.seconds = mw.time.now() - t0
  return self.stats
end

function Worker:close()
  for _, sh in pairs(self.shards) do sh.feed:release() end
  self.shards, self.n_owned = {}, 0
  if self.conn then self.conn:close(); self.conn = nil end
end

--- Runs a worker with opts (M.new) to the end; returns its figures.
function M.run(opts)
  local w = M.new(opts)
  local ok, stats = pcall(Worker.run, w)
  w:close()
  if not ok then error(stats, 0) end
  return stats
end

return M
