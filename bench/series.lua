-- series.lua: series kernels from a script against the same work as a
-- plain Lua loop over a Lua table, in the same run.
--
--   moonwatch bench/series.lua [N]
--
-- N values (1e7 by default); the rolling median's Lua baseline keeps a
-- sorted window with binary search and table.insert/remove (O(w) per
-- step, the usual way to write it in Lua) and runs on N/50 values.
local N = tonumber(arg and arg[1]) or 10000000

local function best(fn, reps)
  local b = math.huge
  for _ = 1, reps or 3 do
    collectgarbage()
    local t0 = os.clock()
    fn()
    local dt = os.clock() - t0
    if dt < b then b = dt end
  end
  return b
end

local s = mw.series.range(1, N) / N
local t = s:totable()

local rows = {}
local function report(name, n, kernel, lua)
  rows[#rows + 1] = string.format("  %-28s %10.1f M/s %12.1f M/s %9.1fx",
    name, n / kernel / 1e6, n / lua / 1e6, lua / kernel)
end

report("sum", N,
  best(function() return s:sum() end),
  best(function() local acc = 0.0 for i = 1, #t do acc = acc + t[i] end return acc end))

report("mean", N,
  best(function() return s:mean() end),
  best(function() local acc = 0.0 for i = 1, #t do acc = acc + t[i] end return acc / #t end))

local W = 1000
report("rolling(1000):mean", N,
  best(function() local r = s:rolling(W):mean(); r:release() end),
  best(function()
    local out, acc = {}, 0.0
    for i = 1, #t do
      acc = acc + t[i]
      if i > W then acc = acc - t[i - W] end
      out[i] = i >= W and acc / W or 0 / 0
    end
  end))

report("rolling(1000):std", N,
  best(function() local r = s:rolling(W):std(); r:release() end),
  best(function()
    local out, sum, sq = {}, 0.0, 0.0
    for i = 1, #t do
      local x = t[i]
      sum, sq = sum + x, sq + x * x
      if i > W then local y = t[i - W]; sum, sq = sum - y, sq - y * y end
      if i >= W then
        local mean = sum / W
        out[i] = math.sqrt(math.max(0, (sq - W * mean * mean) / (W - 1)))
      else
        out[i] = 0 / 0
      end
    end
  end))

local M, WM = N // 50, 1001
local sm, tm = s:slice(1, M), {}
for i = 1, M do tm[i] = t[i] end
local kernel_median = best(function() local r = sm:rolling(WM):median(); r:release() end)
local lua_median = best(function()
  local win, out = {}, {}
  local function find(x)   -- first position whose value is >= x
    local lo, hi = 1, #win + 1
    while lo < hi do
      local mid = (lo + hi) // 2
      if win[mid] < x then lo = mid + 1 else hi = mid end
    end
    return lo
  end
  for i = 1, #tm do
    table.insert(win, find(tm[i]), tm[i])
    if i > WM then table.remove(win, find(tm[i - WM])) end
    out[i] = i >= WM and win[(WM + 1) // 2] or 0 / 0
  end
end, 1)
report("rolling(1001):median", M, kernel_median, lua_median)

print(string.format("series: %d values (rolling median: %d), best of 3", N, M))
print(string.format("  %-28s %14s %16s %10s", "operation", "series", "Lua loop", "ratio"))
for _, r in ipairs(rows) do print(r) end
