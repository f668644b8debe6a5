-- detect.lua: detector throughput, and the windowed Gaussian over the NAB
-- corpus.
--
--   moonwatch bench/detect.lua [nab-data-dir] [N]
--
-- 1. d:run(s) for every detector and thresholder with its defaults on N
--    samples (1e7 by default) of seasonal synthetic data with anomalies:
--    M samples/s, best of 3, a fresh detector each time (creation not
--    timed). Kinds slower than 1 M samples/s run on fewer samples (about
--    two seconds' worth, at least 1e5) so the suite stays short; the
--    count is printed.
-- 2. zscore{window = 6400} (Numenta's windowed Gaussian uses a 6400-value
--    window) over every CSV under nab-data-dir: CPU seconds to read all
--    the files with mw.csv, and to score them.
local NAB = arg and arg[1] or "../shared/data/nab/data"
local N = math.tointeger(tonumber(arg and arg[2]) or 1e7)

local needs = {shesd = {period = 288}}

local function clock(fn)
  local t0 = os.clock()
  fn()
  return os.clock() - t0
end

local x = mw.synth{n = N, period = 288, noise = 0.3, anomalies = 20, seed = 1}
local scores = x:abs()

print(string.format("d:run(s), defaults, best of 3 (%s)", _VERSION))
print(string.format("  %-22s %12s %14s", "kind", "samples", "M samples/s"))
local function bench_kind(tab, name, input)
  local probe = math.min(100000, #input)
  local dt = clock(function() tab[name](needs[name]):run(input:slice(1, probe)) end)
  local rate = probe / math.max(dt, 1e-9)
  local n = #input
  if rate < 1e6 then n = math.max(probe, math.min(#input, math.floor(rate * 2))) end
  local part = n == #input and input or input:slice(1, n)
  local best = math.huge
  for _ = 1, 3 do
    local d = tab[name](needs[name])
    collectgarbage()
    local t = clock(function() d:run(part) end)
    d:release()
    if t < best then best = t end
  end
  print(string.format("  %-22s %12d %14.1f", (tab == mw.thresh and "thresh." or "") .. name, n,
                      n / best / 1e6))
end
for _, name in ipairs(mw.detect.names) do bench_kind(mw.detect, name, x) end
for _, name in ipairs(mw.thresh.names) do bench_kind(mw.thresh, name, scores) end
x:release(); scores:release()

-- The NAB corpus.
local list = io.popen("find '" .. NAB .. "' -name '*.csv' | sort")
local files = {}
for line in list:lines() do files[#files + 1] = line end
list:close()
if #files == 0 then
  print("no CSV files under " .. NAB .. ": NAB part skipped")
  return
end
local read_s, score_s, rows = 0, 0, 0
for _, path in ipairs(files) do
  local frame
  read_s = read_s + clock(function() frame = mw.csv(path, {batch = 1 << 20})() end)
  local d = mw.detect.zscore{window = 6400}
  score_s = score_s + clock(function() d:run(frame) end)
  rows = rows + #frame
  d:release(); frame:release()
end
print(string.format("\nwindowed Gaussian (zscore, window 6400) over %d NAB series, %d rows:", #files, rows))
print(string.format("  read (mw.csv): %.3f CPU s   score: %.4f CPU s   total: %.3f CPU s",
                    read_s, score_s, read_s + score_s))
print("  (Numenta's Python windowed Gaussian: about 35 CPU s for the 58-series corpus)")
