-- workers.lua: three `moonwatch worker` processes in one group over 100
-- series, against a redis-server of the test's own, compared entry by
-- entry with a single-process run of the same pipeline.
--
--     moonwatch workers.lua <moonwatch> <mode> <entries>
--
-- mode "group":   nothing fails: every entry scored exactly once, the
--                 same scores and anomalies as the single-process run;
--                 malformed entries go to the dead-letter stream.
-- mode "kill":    one worker gets SIGKILL mid-run: the others take its
--                 shards over and finish; every entry scored, the same
--                 scores; the duplicates are counted (the design says
--                 none: see docs/scaling.md).
-- mode "restart": redis-server (append-only file on) is stopped and
--                 started again mid-run: the workers log the lost
--                 connection, reconnect and finish, with the same result.
package.path = arg[0]:gsub("[^/]+$", "") .. "?.lua;" .. package.path
local H = require "harness"
H.skip_unless_available()

local bin = assert(arg[1], "usage: workers.lua <moonwatch> <mode> <entries>")
local mode = assert(arg[2])
local n = math.tointeger(tonumber(arg[3])) or 1000000
local N_SERIES, SHARDS = 100, 16
math.randomseed(os.time() + math.floor(mw.time.now() * 1e6) % 100000)

local dir = H.tmpdir()
local redis, workers, held = nil, {}, {}
local ok, err = pcall(function()
  redis = H.start_redis(dir, {persist = mode == "restart"})
  local conn = redis.conn
  local values = H.dataset(N_SERIES, n)
  local ids, produce_s = H.produce(conn, "in", SHARDS, values, n)
  -- Malformed entries: each must end up in the dead-letter stream.
  local bad = {
    {"XADD", "in:3", "*", "value", "1.5"},                          -- no series
    {"XADD", "in:5", "*", "series", "bad-series", "value", "abc"},  -- not a number
    {"XADD", "in:7", "*", "series", "bad-series2"},                 -- no value
  }
  conn:pipeline(bad)
  print(string.format("%s: %d entries (%d series, %d shards) written in %.2f s (%.0f entries/s)", mode, n,
                      N_SERIES, SHARDS, produce_s, n / produce_s))

  local t0 = mw.time.now()
  local scores, anomaly, n_ref = H.reference("default", "", values)
  print(string.format("single-process run: %d anomalies, %.2f s", n_ref, mw.time.now() - t0))

  local lease = mode == "group" and 3 or 1.5
  local common = string.format("--redis 127.0.0.1:%d --stream in --group g --out-stream out --scores " ..
                               "--lease %g --idle-exit %g --checkpoint-every 2000 --checkpoint-interval 1 --retry 60",
                               redis.port, lease, 1)
  t0 = mw.time.now()
  for k, name in ipairs{"w1", "w2", "w3"} do
    workers[k] = H.spawn_worker(bin, dir, name, common .. " --consumer " .. name)
  end

  if mode == "kill" or mode == "restart" then
    -- Mid-run: a third of the outputs written.
    local t1 = mw.time.now()
    while (conn:call("XLEN", "out") or 0) < n / 3 do
      assert(mw.time.now() - t1 < 300, "the workers wrote too little")
      H.sleep(0.05)
    end
    if mode == "kill" then
      -- The shards w2 holds: each must be taken over by w1 or w3.
      for i = 0, SHARDS - 1 do
        if conn:call("GET", "in:" .. i .. ":lease") == "w2" then held[#held + 1] = i end
      end
      assert(#held > 0, "w2 holds no shard to take over")
      os.execute("kill -9 " .. workers[2].pid)
      workers[2].killed = true
      print(string.format("killed w2 (SIGKILL) at %d outputs, holding shards %s", conn:call("XLEN", "out"),
                          table.concat(held, ",")))
    else
      local at = conn:call("XLEN", "out")
      H.restart_redis(redis)
      conn = redis.conn
      print(string.format("restarted redis-server at %d outputs", at))
    end
  end

  local codes = H.wait_workers(workers, 600)
  local seconds = mw.time.now() - t0
  -- The scoring time: from the first output to the last (their ids are
  -- the server's clock in ms), without the start and the idle exit.
  local first = conn:call("XRANGE", "out", "-", "+", "COUNT", 1)[1][1]
  local last = conn:call("XREVRANGE", "out", "+", "-", "COUNT", 1)[1][1]
  local busy = (tonumber(last:match("^%d+")) - tonumber(first:match("^%d+"))) / 1000
  for k, w in ipairs(workers) do
    local log = H.read_file(w.log)
    io.write(log)
    if not w.killed then
      assert(codes[k] == 0, string.format("worker w%d exited with %s:\n%s", k, tostring(codes[k]), log))
    end
    if mode == "restart" then
      assert(log:find("lost connection to 127.0.0.1:" .. redis.port .. " %(.-%), retrying in [%d.]+ s"),
             "worker w" .. k .. " did not log the lost connection")
      assert(log:find("reconnected to 127.0.0.1:" .. redis.port, 1, true), "worker w" .. k .. " did not reconnect")
    end
  end
  if mode == "kill" then
    local log = H.read_file(workers[1].log) .. H.read_file(workers[3].log)
    for _, i in ipairs(held) do
      assert(log:find("took over in:" .. i .. " from checkpoint", 1, true), "nobody took in:" .. i .. " over from w2")
    end
  end

  local outputs, duplicates, anomalies = H.verify(conn, "out", values, ids, scores, anomaly)
  local dead = conn:call("XLEN", "out:dead")
  local pending = H.pending(conn, "in", SHARDS, "g")
  print(string.format("%s: %d entries scored by 3 workers in %.2f s (%.2f s from the first output to the " ..
                      "last: %.0f entries/s in all); %d outputs, %d duplicates, %d anomalies (single process: " ..
                      "%d), %d dead letters, %d pending", mode, n, seconds, busy, n / busy, outputs, duplicates,
                      anomalies, n_ref, dead, pending))
  assert(dead == #bad, string.format("%d dead letters, expected %d", dead, #bad))
  local reasons = {}
  for _, e in ipairs(conn:call("XRANGE", "out:dead", "-", "+")) do
    for k = 1, #e[2] - 1, 2 do if e[2][k] == "error" then reasons[#reasons + 1] = e[2][k + 1] end end
  end
  table.sort(reasons)
  assert(table.concat(reasons, "|") == "field 'value' is not a number ('abc')|no field 'series'|no field 'value'",
         "dead letters: " .. table.concat(reasons, "|"))
  assert(pending == 0, pending .. " entries still pending")
  assert(anomalies == n_ref, "anomalies differ from the single-process run")
  -- Exactly once: the commit writes outputs and acknowledgements in one
  -- atomic script, and a takeover replays acknowledged entries silently.
  assert(duplicates == 0, duplicates .. " duplicate outputs")
  assert(outputs == n, string.format("%d outputs for %d entries", outputs, n))
end)
H.kill_workers(workers)
H.stop_redis(redis)
os.execute(string.format("rm -rf %q", dir))
if not ok then error(err, 0) end
