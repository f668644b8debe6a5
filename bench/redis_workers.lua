-- redis_workers.lua: throughput of `moonwatch worker` (docs/scaling.md).
--
--     moonwatch bench/redis_workers.lua <moonwatch> [entries]
--
-- Starts a redis-server of its own (tests/redis/harness.lua), writes
-- `entries` entries (100 series, 16 shards) and scores them with 1 and
-- then 3 workers of the default pipeline, writing only anomalies and then
-- every score. The time is the workers' busy time, from the first read
-- to the last acknowledgement (polled every 0.2 s on the server's clock),
-- so the start-up and the idle exit are left out: the per-worker rate is
-- entries / (workers x that time). Baseline: the
-- same pipeline in one process without Redis (moonwatch.pipeline's feed,
-- one push per series), printed as a ratio.
package.path = arg[0]:gsub("bench/[^/]+$", "tests/redis/") .. "?.lua;" .. package.path
local H = require "harness"
H.skip_unless_available()
local bin = assert(arg[1], "usage: redis_workers.lua <moonwatch> [entries]")
local n = math.tointeger(tonumber(arg[2])) or 1000000
math.randomseed(os.time())

local values = H.dataset(100, n)
local t0 = mw.time.now()
H.reference("default", "", values)
local ref_s = mw.time.now() - t0
print(string.format("baseline: one process, no Redis: %d entries in %.2f s (%.0f entries/s)", n, ref_s, n / ref_s))

for _, case in ipairs{{1, false}, {3, false}, {1, true}, {3, true}} do
  local n_workers, scores = case[1], case[2]
  local dir = H.tmpdir()
  local redis = H.start_redis(dir)
  local ok, err = pcall(function()
    local conn = redis.conn
    H.produce(conn, "in", 16, values, n)
    local workers = {}
    for k = 1, n_workers do
      workers[k] = H.spawn_worker(bin, dir, "w" .. k, string.format(
        "--redis 127.0.0.1:%d --stream in --group g --out-stream out --lease 3 --idle-exit 1 " ..
        "--checkpoint-every 10000 --checkpoint-interval 10 %s --consumer w%d", redis.port, scores and "--scores" or "", k))
    end
    -- Busy time, on the server's clock, polled every 0.2 s: from the
    -- first poll that sees entries read to the first that sees every
    -- shard drained (nothing pending, no lag).
    local t_first, t_last
    while true do
      local codes = H.wait_workers(workers, 0.2)
      local pending, lag = 0, 0
      local now = conn:call("TIME")
      local now_ms = tonumber(now[1]) * 1000 + tonumber(now[2]) // 1000
      for i = 0, 15 do
        for _, g in ipairs(conn:call("XINFO", "GROUPS", "in:" .. i)) do
          local f = {}
          for k = 1, #g - 1, 2 do f[g[k]] = g[k + 1] end
          pending = pending + f.pending
          lag = lag + (f.lag or 0)
          if f["entries-read"] and f["entries-read"] > 0 and not t_first then t_first = now_ms end
        end
      end
      if pending == 0 and lag == 0 and t_first then t_last = t_last or now_ms end
      local all_done = true
      for k = 1, n_workers do if codes[k] == nil then all_done = false end end
      if all_done then break end
    end
    local busy = (t_last - t_first) / 1000
    local stats = {}
    for k = 1, n_workers do stats[#stats + 1] = H.read_file(workers[k].log):match("(%d+ entries scored[^\n]*)") end
    print(string.format("%d worker%s, %s: %d entries in %.2f s: %.0f entries/s in all, %.0f per worker " ..
                        "(%.2fx the one-process baseline per worker); %d outputs",
                        n_workers, n_workers > 1 and "s" or "", scores and "every score written" or "anomalies only",
                        n, busy, n / busy, n / busy / n_workers, (n / busy / n_workers) / (n / ref_s),
                        conn:call("XLEN", "out")))
    for _, s in ipairs(stats) do print("  " .. s) end
  end)
  H.stop_redis(redis)
  os.execute(string.format("rm -rf %q", dir))
  if not ok then error(err, 0) end
end
