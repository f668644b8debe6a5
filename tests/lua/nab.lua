-- nab.lua: NAB scoring (mw.nab) on hand-made cases whose scores are
-- worked out by hand from the rules in ../shared/data/nab/README.md, a
-- brute-force check of the threshold sweep, label files, and errors.
local t = require "helper"

local function close(got, want, what, tol)
  if math.abs(got - want) > (tol or 1e-9) then
    error(string.format("%s: expected %.12g, got %.12g", what, want, got), 2)
  end
end

-- f(y) = 2 sigmoid(-5y) - 1, the scaled sigmoid; f(-1) = 0.98661429815.
local function f(y) return y >= 3 and -1 or 2 / (1 + math.exp(5 * y)) - 1 end

-- 100 rows: the probation is min(floor(15), 750) = 15 rows; one window on
-- rows 41..50 (width 10).
local N, W = 100, {{41, 50}}
local function scores(hits)
  local s = {}
  for i = 1, N do s[i] = 0 end
  for i, v in pairs(hits) do s[i] = v end
  return s
end
local function score1(hits, opts, windows)
  return mw.nab.score({{name = "one", score = scores(hits), windows = windows or W}}, opts)
end

t.eq(mw.nab.probation(100), 15, "probation of 100 rows")
t.eq(mw.nab.probation(4032), 604, "probation of 4032 rows")
t.eq(mw.nab.probation(10000), 750, "probation capped at 750")
t.eq(mw.nab.probation(10000, 0.1), 500, "probation at 10%")

-- A perfect detector (at the window's first row) scores 100; null 0.
local r = score1{[41] = 1}
close(r.raw, 1, "perfect raw")
close(r.null, -1, "null")
close(r.perfect, 1, "perfect")
close(r.score, 100, "perfect normalised")
t.eq(r.threshold, 1, "perfect threshold")
t.eq(r.tp, 1, "perfect tp"); t.eq(r.fn, 0, "perfect fn"); t.eq(r.fp, 0, "perfect fp")
r = score1{}
close(r.score, 0, "null detector (all zeros) scores 0")
t.eq(r.threshold, math.huge, "nothing firing is best: threshold inf")
t.eq(r.fn, 1, "null fn")

-- At the window's last row: y = -(50 - 50 + 1) / 10 = -0.1, earning
-- f(-0.1) / f(-1) = 0.248241550; normalised 100 (0.2482 + 1) / 2.
r = score1{[50] = 1}
close(r.raw, f(-0.1) / f(-1), "end of window")
close(r.raw, 0.24824154977543, "end of window, by hand")
close(r.score, 62.4120774887715, "end of window normalised")
-- Halfway: row 45, y = -(50 - 45 + 1) / 10 = -0.6: 0.917428680.
close(score1{[45] = 1}.raw, 0.9174286804284079, "row 45")
-- Only the earliest detection of a window counts.
close(score1{[45] = 1, [41] = 1, [50] = 1}.raw, 1, "earliest counts")

-- A false positive before any window costs fpWeight: 1 - 0.11.
r = score1{[41] = 1, [20] = 1}
close(r.raw, 0.89, "fp before the window")
close(r.score, 94.5, "fp before, normalised")
t.eq(r.fp, 1, "one fp")
-- Just after the window: d = (51 - 50) / (10 - 1) = 1/9, costing
-- 0.11 f(1/9) = -0.0297931830.
close(score1{[41] = 1, [51] = 1}.raw, 1 - 0.029793183036839352, "fp just after")
-- From d = 3 on (row 50 + 27 = 77) the full cost.
close(score1{[41] = 1, [77] = 1}.raw, 0.89, "fp far after")
close(score1{[41] = 1, [76] = 1}.raw, 1 + 0.11 * f(26 / 9), "fp before d = 3")
-- The other profiles: low FP doubles the fp cost, low FN the fn cost.
close(score1({[41] = 1, [20] = 1}, {profile = "reward_low_FP_rate"}).raw, 0.78, "low FP")
r = score1({}, {profile = "reward_low_FN_rate"})
close(r.null, -2, "low FN null")

-- Probationary rows are not scored: a detection there counts for nothing.
r = score1{[10] = 1}
close(r.raw, -1, "probationary detection ignored")
close(r.score, 0, "probationary detection normalised")
-- A window inside the probation is neither a miss nor scored, but NAB
-- counts it in the perfect score (the number of labelled windows).
r = score1({[41] = 1}, nil, {{5, 8}, {41, 50}})
close(r.raw, 1, "probationary window not a miss")
close(r.null, -1, "null counts scored windows")
close(r.perfect, 2, "perfect counts labelled windows")
close(r.score, 100 * 2 / 3, "normalised with a probationary window")
t.eq(r.windows, 1, "scored windows"); t.eq(r.labelled, 2, "labelled windows")

-- One threshold for the corpus: run A has a TP at 0.8 and an FP at 0.9,
-- run B a TP at 0.6 (row 45) and an FP at 0.7 (row 60, d = 10/9).
-- Thresholds 0.9: -0.11 - 2 = -2.11; 0.8: -0.11 + 1 - 1 = -0.11;
-- 0.7: -0.11 + 1 - 1 + 0.11 f(10/9) = -0.219; 0.6: +1 + 0.917428680
-- - 0.11 - 0.109152773 = 1.698275908; 0 (all rows): far below.
local a = scores{[41] = 0.8, [20] = 0.9}
local b = scores{[45] = 0.6, [60] = 0.7}
r = mw.nab.score{{name = "a", score = a, windows = W}, {name = "b", score = b, windows = W}}
t.eq(r.threshold, 0.6, "corpus threshold")
close(r.raw, 1.6982759075467126, "corpus raw")
close(r.score, 92.45689768866782, "corpus normalised")
t.eq(r.files[1].name, "a", "file names kept")
close(r.files[1].raw, 0.89, "file a at the corpus threshold")
close(r.files[2].raw, 1 + 0.917428680428408 - 1 - 0.10915277288169534, "file b")
-- A fixed threshold is scored as given.
r = mw.nab.score({{score = a, windows = W}, {score = b, windows = W}}, {threshold = 0.8})
close(r.raw, -0.11, "fixed threshold 0.8")
-- NaN scores never fire.
r = score1{[41] = 0 / 0, [45] = 1}
close(r.raw, 0.9174286804284079, "NaN never fires")

-- The sweep finds the best of every threshold: brute force on random
-- scores over two runs with several windows.
do
  math.randomseed(42)
  local runs, candidates = {}, {}
  for k = 1, 2 do
    local s = {}
    for i = 1, 400 do
      s[i] = math.floor(math.random() * 50) / 50
      candidates[s[i]] = true
    end
    runs[k] = {score = s, windows = {{100, 130}, {200, 210}, {300 + k, 340}}}
  end
  for _, profile in ipairs{"standard", "reward_low_FP_rate", "reward_low_FN_rate"} do
    local best, best_x = -math.huge
    for x in pairs(candidates) do
      local raw = mw.nab.score(runs, {threshold = x, profile = profile}).raw
      if raw > best or (raw == best and x > best_x) then best, best_x = raw, x end
    end
    local none = mw.nab.score(runs, {threshold = math.huge, profile = profile}).raw
    if none >= best then best, best_x = none, math.huge end
    local opt = mw.nab.score(runs, {profile = profile})
    close(opt.raw, best, profile .. ": the sweep's best is brute force's", 1e-9)
    t.eq(opt.threshold, best_x, profile .. ": the sweep's threshold")
  end
end

-- Windows by time: a run with timestamps maps each window's start and end
-- to its first row of that time (NAB's rule; repeated times are allowed).
do
  local time, s = {}, scores{[41] = 1}
  for i = 1, N do time[i] = 1000 * 60 * i end
  time[31] = time[30]                 -- a repeated stamp (a DST fold)
  r = mw.nab.score{{score = s, time = time, windows = {{time[41], time[50]}}}}
  close(r.score, 100, "windows by time")
  t.raises("run 1: window 1's start 1970-01-01 00:40:30 is not a time of the run",
           mw.nab.score, {{score = s, time = time, windows = {{time[41] - 30000, time[50]}}}})
  local back = {table.unpack(time)}; back[60] = 0
  t.raises("run 1: 'time' goes back in time at row 60", mw.nab.score,
           {{score = s, time = back, windows = {}}})
end

-- Series work as well as tables, and give the same numbers.
do
  local s = mw.series(scores{[45] = 1, [80] = 0.5})
  close(mw.nab.score{{score = s, windows = W}}.raw,
        mw.nab.score{{score = scores{[45] = 1, [80] = 0.5}, windows = W}}.raw, "series = table")
  s:release()
  t.raises("a released handle", mw.nab.score, {{score = s}})
end

-- Errors name what was wrong.
t.raises("unknown profile 'standart'", mw.nab.score, {}, {profile = "standart"})
t.raises("unknown field 'treshold' in options", mw.nab.score, {}, {treshold = 1})
t.raises("unknown field 'scores' in a run", mw.nab.score, {{scores = {}}})
t.raises("run 1 has no 'score'", mw.nab.score, {{windows = {}}})
t.raises("run 2 is number, not a table", mw.nab.score, {{score = {}}, 5})
t.raises("'score'[2] is string, not a number", mw.nab.score, {{score = {1, "x"}}})
t.raises("'time' has 2 values, 'score' has 3", mw.nab.score, {{score = {1, 2, 3}, time = {1, 2}}})
t.raises("window 2 ends before it starts or overlaps the one before", mw.nab.score,
         {{score = scores{}, windows = {{41, 50}, {45, 60}}}})
t.raises("window 1's end must be a row number in 1..100", mw.nab.score,
         {{score = scores{}, windows = {{41, 101}}}})
t.raises("probation must be a number in [0, 1)", mw.nab.score, {}, {probation = 1})
close(mw.nab.score({{score = scores{[41] = 1}, windows = W}}, {profile = {tp = 2, fp = 1, fn = 3}}).score,
      100, "a custom profile")

-- Label files: NAB's combined_windows.json layout.
do
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  fh:write('{\n  "a/x.csv": [\n    ["2014-04-10 07:15:00.000000", "2014-04-11 16:45:00.000000"]\n  ],\n',
           '  "b/y.csv": []\n}\n')
  fh:close()
  local labels = mw.nab.labels(path)
  t.eq(#labels["a/x.csv"], 1, "one window")
  t.eq(labels["a/x.csv"][1][1], mw.time.parse("2014-04-10 07:15:00"), "start in ms")
  t.eq(mw.time.format(labels["a/x.csv"][1][2]), "2014-04-11 16:45:00", "end")
  t.eq(#labels["b/y.csv"], 0, "no windows")
  fh = assert(io.open(path, "w"))
  fh:write('{\n  "a/x.csv": [\n    ["2014-04-10 07:15:00", 5]\n  ]\n}\n')
  fh:close()
  t.raises("labels '" .. path .. "': line 3: expected a timestamp string", mw.nab.labels, path)
  fh = assert(io.open(path, "w"))
  fh:write('{"a": [["2014-04-12", "2014-04-10"]]}')
  fh:close()
  t.raises("line 1: a window ends before it starts", mw.nab.labels, path)
  os.remove(path)
  t.raises("cannot open '" .. path .. "'", mw.nab.labels, path)
end

-- The shipped labels, when the NAB sample is beside the project.
local nab = "../../../shared/data/nab/labels/combined_windows.json"
if io.open(nab) then
  local labels, files, windows = mw.nab.labels(nab), 0, 0
  for _, w in pairs(labels) do files = files + 1; windows = windows + #w end
  t.eq(files, 41, "41 files"); t.eq(windows, 64, "64 windows")
  -- The whole sample against an independent scorer: each row scored by
  -- |x[i] - x[i-1]| / the largest such difference before it (exact in
  -- any language); numbers from tests/tools/nab_reference.py.
  local names = {}
  for name in pairs(labels) do names[#names + 1] = name end
  table.sort(names)
  local runs = {}
  for _, name in ipairs(names) do
    local frame = mw.csv("../../../shared/data/nab/data/" .. name, {batch = 1 << 20})()
    local x, s, top = frame.value, {}, 0
    s[1] = 0 / 0
    for i = 2, #x do
      local d = math.abs(x[i] - x[i - 1])
      s[i] = top > 0 and d / top or 0 / 0
      if d > top then top = d end
    end
    runs[#runs + 1] = {name = name, score = s, time = frame.timestamp, windows = labels[name]}
  end
  local want = {standard = 48.1589630672, reward_low_FP_rate = 46.5259919280,
                reward_low_FN_rate = 51.0157484520}
  for profile, score in pairs(want) do
    close(mw.nab.score(runs, {profile = profile}).score, score, "NAB sample, " .. profile, 1e-9)
  end
end

-- Run tables are read raw: an __index is never called, so it cannot
-- change the runs (or release a series) while their numbers are held.
do
  local calls = 0
  local held = mw.series(scores{[41] = 1})
  local run = setmetatable({score = held, windows = W}, {__index = function(_, k)
    calls = calls + 1
    held:release()
    return nil
  end})
  close(mw.nab.score{run}.score, 100, "a run with an __index")
  t.eq(calls, 0, "__index is never called")
  held:release()
  -- A custom profile's name survives until the result is made.
  local r = mw.nab.score({{score = scores{[41] = 1}, windows = W}},
                         {profile = {tp = 1, fp = 0.11, fn = 1, name = ("x"):rep(10) .. "y"}})
  t.eq(r.profile, "xxxxxxxxxxy", "custom profile name")
end

-- +inf scores fire at the highest finite threshold; inf means none fires.
do
  local s = scores{}
  s[20] = math.huge
  local r = mw.nab.score{{score = s, windows = W}}
  t.eq(r.threshold, math.huge, "firing nothing is best")
  t.eq(r.fp, 0, "and nothing fired")
  close(r.score, 0, "so the null score")
  s[41] = math.huge
  r = mw.nab.score{{score = s, windows = W}}
  close(r.raw, 1 - 0.11, "+inf rows fire together")
  t.raises("window 1's start 1e+300 is not a time of the run", mw.nab.score,
           {{score = {1, 2}, time = {1, 2}, windows = {{1e300, 2}}}})
end

-- mw.time
t.eq(mw.time.parse("1970-01-02"), 86400000, "parse a date")
t.eq(mw.time.format(86400000 + 1), "1970-01-02 00:00:00.001", "format with ms")
t.eq(mw.time.format(-1000), "1969-12-31 23:59:59", "before 1970")
t.eq(select(2, mw.time.parse("yesterday")):find("is not a timestamp", 1, true) ~= nil, true, "parse fails")

print("nab: ok")
