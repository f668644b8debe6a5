-- harness.lua: what the Redis tests share: a redis-server of their own
-- on a free loopback port (stopped at the end, failed or not, and by a
-- watchdog if the test process dies), workers started in the background
-- as the real `moonwatch worker`, a deterministic producer and the
-- single-process reference run of the same pipeline.
--
-- A test skips (exit 77) only when this build has no Redis support or
-- redis-server is not installed.
local H = {}

function H.skip_unless_available()
  if not mw.redis.available then
    print("SKIP: this build has no Redis support (meson -Dredis=disabled or no libhiredis-dev)")
    os.exit(77)
  end
  local p = io.popen("command -v redis-server 2>/dev/null")
  local path = p:read("l")
  p:close()
  if not path or path == "" then
    print("SKIP: redis-server is not installed (scripts/test installs it)")
    os.exit(77)
  end
end

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end
H.sh = sh

function H.sleep(s) os.execute(string.format("sleep %.3f", s)) end

function H.tmpdir()
  local d = sh("mktemp -d \"${TMPDIR:-/tmp}/mw-redis-test.XXXXXX\""):gsub("%s+$", "")
  assert(d ~= "", "mktemp failed")
  return d
end

-- Starts redis-server in dir on a free port; opts.persist: AOF on.
function H.start_redis(dir, opts, port)
  opts = opts or {}
  local me = sh("echo $PPID"):gsub("%s+$", "")
  for _ = 1, 20 do
    port = port or math.random(20000, 60000)
    if not mw.redis.connect{port = port, retry = 0, log = false} then
      local args = string.format("--port %d --bind 127.0.0.1 --dir %q --save '' --logfile %q --pidfile %q " ..
                                 "--daemonize yes %s", port, dir, dir .. "/redis.log", dir .. "/redis.pid",
                                 opts.persist and "--appendonly yes --appendfsync always" or "--appendonly no")
      os.execute("redis-server " .. args .. " >/dev/null")
      for _ = 1, 100 do
        local conn = mw.redis.connect{port = port, retry = 0, log = false}
        local up = conn and select(2, pcall(conn.call, conn, "PING")) == "PONG"
        if conn then conn:close() end
        if up then
          conn = assert(mw.redis.connect{port = port, retry = 60})
          local pid = sh(string.format("cat %q 2>/dev/null", dir .. "/redis.pid")):gsub("%s+$", "")
          -- The watchdog: stops the server if this test dies first.
          os.execute(string.format("(while kill -0 %s 2>/dev/null; do sleep 1; done; kill %s 2>/dev/null) " ..
                                   ">/dev/null 2>&1 &", me, pid))
          return {port = port, pid = pid, dir = dir, args = args, conn = conn}
        end
        H.sleep(0.05)
      end
    end
    port = nil
  end
  error("could not start redis-server (see its log in " .. dir .. ")")
end

-- Stops the server (SIGTERM: it writes its append-only file first) and
-- waits for it to exit.
function H.stop_redis(r)
  if not r or not r.pid or r.pid == "" then return end
  os.execute(string.format("kill %s 2>/dev/null", r.pid))
  for _ = 1, 200 do
    if not os.execute(string.format("kill -0 %s 2>/dev/null", r.pid)) then break end
    H.sleep(0.05)
  end
  r.pid = nil
end

-- Starts the server again with the same arguments (data kept).
function H.restart_redis(r)
  H.stop_redis(r)
  local again = H.start_redis(r.dir, {persist = r.args:find("appendonly yes", 1, true)}, r.port)
  r.pid, r.conn = again.pid, again.conn
end

-- Starts `moonwatch worker args` in the background; returns {pid, log, rc}
-- (the worker's pid, its stderr file, the file its exit status goes to).
function H.spawn_worker(bin, dir, name, args)
  local w = {log = dir .. "/" .. name .. ".log", rc = dir .. "/" .. name .. ".rc", pidfile = dir .. "/" .. name .. ".pid"}
  os.execute(string.format("sh -c '%q worker %s >%q 2>&1 & echo $! >%q; wait $!; echo $? >%q' >/dev/null 2>&1 &",
                           bin, args, w.log, w.pidfile, w.rc))
  for _ = 1, 100 do
    local pid = sh(string.format("cat %q 2>/dev/null", w.pidfile)):gsub("%s+$", "")
    if pid ~= "" then w.pid = pid; return w end
    H.sleep(0.02)
  end
  error("worker " .. name .. " did not start")
end

function H.read_file(path)
  local fh = io.open(path)
  if not fh then return "" end
  local s = fh:read("a")
  fh:close()
  return s
end

-- Waits for the workers to exit (at most `limit` seconds); returns their
-- exit statuses (nil for one killed or still running).
function H.wait_workers(workers, limit)
  local t0 = mw.time.now()
  while mw.time.now() - t0 < limit do
    local running = false
    for _, w in ipairs(workers) do
      if not w.killed and H.read_file(w.rc) == "" then running = true end
    end
    if not running then break end
    H.sleep(0.1)
  end
  local codes = {}
  for i, w in ipairs(workers) do codes[i] = tonumber((H.read_file(w.rc):gsub("%s+$", ""))) end
  return codes
end

function H.kill_workers(workers)
  for _, w in ipairs(workers) do
    if w.pid then os.execute(string.format("kill -9 %s 2>/dev/null", w.pid)) end
  end
end

-- The data: n entries over n_series series, round robin, values a sine
-- per series with noise and a spike every 2000 samples (deterministic).
function H.dataset(n_series, n)
  local seed = 12345
  local function rnd()
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  end
  local values = {}
  for s = 1, n_series do values[s] = {} end
  for i = 0, n - 1 do
    local s = i % n_series
    local t = i // n_series
    local v = math.sin(t / 40 + s) * (5 + s % 7) + rnd() * (1 + s % 3)
    if t % 500 == 300 + s % 50 then v = v + 40 + s % 10 end
    values[s + 1][t + 1] = v
  end
  return values
end

-- Writes the dataset to KEY:<shard> in pipelined XADDs; returns the ids
-- (ids[s][t]) and the seconds it took.
function H.produce(conn, key, shards, values, n)
  local t0 = mw.time.now()
  local n_series = #values
  local ids, cmds, where = {}, {}, {}
  for s = 1, n_series do ids[s] = {} end
  local function flush()
    local r = conn:pipeline(cmds)
    for k, id in ipairs(r) do
      assert(type(id) == "string", "XADD failed")
      ids[where[k][1]][where[k][2]] = id
    end
    cmds, where = {}, {}
  end
  for i = 0, n - 1 do
    local s = i % n_series + 1
    local t = i // n_series + 1
    local name = "m" .. (s - 1)
    cmds[#cmds + 1] = {"XADD", key .. ":" .. mw.redis.shard(name, shards), "*",
                       "series", name, "ts", t, "value", values[s][t]}
    where[#cmds] = {s, t}
    if #cmds == 10000 then flush() end
  end
  if #cmds > 0 then flush() end
  return ids, mw.time.now() - t0
end

local function fmt(x)
  if x ~= x then return "nan" end
  return string.format("%.17g", x)
end

-- The single-process run: the same pipeline, each series in one push.
-- Returns scores[s][t] (text, as the workers write them) and anomaly[s][t].
function H.reference(spec, params, values)
  local pipeline = require "moonwatch.pipeline"
  local feed = pipeline.feed(spec, params)
  local scores, anomaly, n_anomalies = {}, {}, 0
  for s = 1, #values do
    local name = "m" .. (s - 1)
    local v = mw.series(values[s])
    local sc, hits = feed:push(name, v)
    v:release()
    scores[s], anomaly[s] = {}, {}
    for t = 1, #sc do scores[s][t] = fmt(sc[t]) end
    for _, t in ipairs(hits) do anomaly[s][t] = true; n_anomalies = n_anomalies + 1 end
    sc:release()
  end
  feed:release()
  return scores, anomaly, n_anomalies
end

-- Reads the output stream and compares it with the reference: every
-- input entry has an output, with the reference's score and flag.
-- Returns outputs, duplicates, anomalies; raises on a difference.
function H.verify(conn, out_key, values, ids, scores, anomaly)
  local seen = {}
  for s = 1, #values do seen[s] = {} end
  local outputs, duplicates, anomalies = 0, 0, 0
  local start = "-"
  while true do
    local batch = conn:call("XRANGE", out_key, start, "+", "COUNT", 20000)
    if #batch == 0 then break end
    for _, e in ipairs(batch) do
      local f = {}
      for k = 1, #e[2] - 1, 2 do f[e[2][k]] = e[2][k + 1] end
      local s = tonumber(f.series:match("^m(%d+)$")) + 1
      local t = math.tointeger(tonumber(f.ts))
      assert(ids[s][t] == f.id, string.format("output for %s ts %s has id %s, the input's is %s",
                                               f.series, f.ts, f.id, tostring(ids[s][t])))
      assert(f.score == scores[s][t], string.format("%s at %d (entry %s): score %s, the single-process run gave %s",
                                                     f.series, t, f.id, f.score, scores[s][t]))
      assert((f.anomaly == "1") == (anomaly[s][t] == true),
             string.format("%s at %d: anomaly %s, the single-process run says %s", f.series, t, f.anomaly,
                           tostring(anomaly[s][t] == true)))
      outputs = outputs + 1
      if seen[s][t] then duplicates = duplicates + 1 else seen[s][t] = true end
      if f.anomaly == "1" then anomalies = anomalies + 1 end
    end
    start = "(" .. batch[#batch][1]
  end
  local missing = 0
  for s = 1, #values do
    for t = 1, #values[s] do
      if not seen[s][t] then
        missing = missing + 1
        if missing <= 5 then io.stderr:write(string.format("not scored: m%d at %d (entry %s)\n", s - 1, t, ids[s][t])) end
      end
    end
  end
  assert(missing == 0, string.format("%d entries were not scored", missing))
  return outputs, duplicates, anomalies
end

-- Every group of every shard: nothing pending.
function H.pending(conn, key, shards, group)
  local n = 0
  for i = 0, shards - 1 do
    local p = conn:call("XPENDING", key .. ":" .. i, group)
    n = n + (p[1] or 0)
  end
  return n
end

return H
