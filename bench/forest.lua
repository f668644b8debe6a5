-- forest.lua: throughput of the streaming forests hst and rrcf, learning
-- and scoring one row of 10 features at a time from Lua, against the
-- cost of the Lua loop itself.
--
--   moonwatch bench/forest.lua [N]
--
-- Rows come from a pool of 4096 rows of Gaussian clusters (1% far
-- points), made before timing. Best of 3, wall seconds (mw.time.now).
--   loop only         the loop body with rawlen(row) in place of d:update:
--                     what any C function taking the table costs
--   table, refilled   one table reused for every row, its 10 values
--                     written from Lua before each d:update(row)
--   table pool        d:update(pool[i]): 4096 prepared tables, reused
--   series pool       d:update(series[i]): 4096 prepared series of 10
--   run(list)         d:run(list of rows): the rows read by C in one call
-- hst runs on N rows (1e6 by default), rrcf (40 trees of 256 points) on
-- N / 50. Baselines: River's HalfSpaceTrees is documented at about 85,000
-- rows/s (learn_one + score_one, Python); the rrcf Python package's
-- per-point cost is measured by tests/tools/rrcf_ref.py on this machine.
local N = math.tointeger(tonumber(arg and arg[1]) or 1e6)
local DIMS, POOL = 10, 4096

local state = 12345
local function uniform()
  state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
  return ((state >> 11) & ((1 << 52) - 1)) / (1 << 52)
end
local function normal()
  local u1 = math.max(uniform(), 1e-300)
  return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * uniform())
end

local pool, flat, series_pool = {}, {}, {}
for i = 1, POOL do
  local row, far, c = {}, uniform() < 0.01, math.floor(uniform() * 3)
  for k = 1, DIMS do
    row[k] = far and uniform() * 40 - 20 or (c - 1) * 4 + k % 3 + normal()
    flat[(i - 1) * DIMS + k] = row[k]
  end
  pool[i], series_pool[i] = row, mw.series(row)
end

local function best_of_3(fn)
  local best = math.huge
  for _ = 1, 3 do
    collectgarbage()
    local t0 = mw.time.now()
    fn()
    best = math.min(best, mw.time.now() - t0)
  end
  return best
end

local function report(what, n, dt, base)
  local rate = n / dt
  print(string.format("  %-20s %10d rows %12.0f rows/s %9.1f ns/row%s", what, n, rate, 1e9 * dt / n,
                      base and string.format("  %6.1fx %s", rate / base[2], base[1]) or ""))
  return rate
end

local function bench(name, params, n, baseline)
  print(string.format("%s%s, %d features, learn + score one row at a time (%s)", name,
                      params and "" or " (defaults)", DIMS, _VERSION))
  local mask = POOL - 1
  local rawlen = rawlen
  local row = {}
  local dt = best_of_3(function()
    for i = 0, n - 1 do
      local at = (i & mask) * DIMS
      for k = 1, DIMS do row[k] = flat[at + k] end
      rawlen(row)
    end
  end)
  local loop_rate = report("loop only", n, dt)
  local d
  dt = best_of_3(function()
    d = mw.detect[name](params)
    local update = d.update
    for i = 0, n - 1 do
      local at = (i & mask) * DIMS
      for k = 1, DIMS do row[k] = flat[at + k] end
      update(d, row)
    end
  end)
  report("table, refilled", n, dt, baseline)
  dt = best_of_3(function()
    d = mw.detect[name](params)
    local update = d.update
    for i = 0, n - 1 do update(d, pool[(i & mask) + 1]) end
  end)
  report("table pool", n, dt, baseline)
  dt = best_of_3(function()
    d = mw.detect[name](params)
    local update = d.update
    for i = 0, n - 1 do update(d, series_pool[(i & mask) + 1]) end
  end)
  report("series pool", n, dt, baseline)
  local list = {}
  for i = 1, math.min(n, POOL) do list[i] = pool[i] end
  local reps = math.max(1, n // #list)
  dt = best_of_3(function()
    d = mw.detect[name](params)
    for _ = 1, reps do d:run(list) end
  end)
  report("run(list)", reps * #list, dt, baseline)
  print(string.format("  memory: d:bytes() = %d; loop only runs at %.0f rows/s", d:bytes(), loop_rate))
end

bench("hst", nil, N, {"River (85,000 rows/s)", 85000})
bench("rrcf", nil, math.max(N // 50, 4096), nil)
