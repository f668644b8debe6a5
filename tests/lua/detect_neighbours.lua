-- detect_neighbours.lua: the knn and lof detectors on rows: scikit-learn's
-- numbers (tests/tools/neighbours_ref.py made them, on the same data),
-- detection rates (ROC AUC) on streams with known anomalies, the row
-- protocol (run == update, NaN rows, save/load and clone continuation,
-- fit frozen), memory per detector and parameter errors.
local t = require "helper"

-- ---- the data of neighbours_ref.py ---------------------------------------

local lcg = t.lcg

local CENTRES = {{0, 0, 0, 0}, {4, 4, 0, 0}, {0, 4, 4, -2}}

-- n rows of 4 values and their labels (true: an outlier, every 20th from
-- the 8th, uniform in [-4, 8]^4; the others around one of three centres).
local function rows(seed, n, outliers)
  local g = lcg(seed)
  local xs, ys = {}, {}
  for i = 0, n - 1 do
    local row = {}
    if outliers ~= false and i % 20 == 7 then
      for k = 1, 4 do row[k] = 12 * g.uniform() - 4 end
      ys[#ys + 1] = true
    else
      local c = CENTRES[i % 3 + 1]
      for k = 1, 4 do row[k] = c[k] + 0.8 * g.normal() end
      ys[#ys + 1] = false
    end
    xs[#xs + 1] = row
  end
  return xs, ys
end

-- ROC AUC of scores against boolean labels (ties count half).
local auc = t.roc_auc

local function close(got, want, tol, what)
  for i = 1, #want do
    local err = math.abs(got[i] - want[i]) / math.max(1, math.abs(want[i]))
    if not (err <= tol) then
      error(string.format("%s: value %d: %.12g, scikit-learn %.12g", what, i, got[i], want[i]), 2)
    end
  end
end

local same, check_equal = t.same, t.equal_values

-- ---- against scikit-learn ----------------------------------------------------

-- Printed by /usr/bin/python3 tests/tools/neighbours_ref.py (scikit-learn 1.2.1).
local SK = {
  batch_lof_auc = 0.973977,
  batch_lof = {1.13737893027, 1.01160787958, 1.07193011169, 1.16830010751, 0.984572811809,
               1.06289680921, 1.02573252738, 2.29905728122},
  novelty_lof_auc = 0.995921,
  novelty_lof = {1.09730142366, 1.18442899757, 1.14967270705, 1.08059731815, 0.954366190957,
                 1.09794140418, 1.46965383646, 1.38595831068},
  knn_auc = 0.996316,
  knn_largest = {0.785868631747, 0.994154100852, 0.974129871457, 0.769222504608,
                 0.281662386757, 0.90032553845, 1.35928295733, 1.28364055009},
  knn_mean = {0.611100789803, 0.764713229297, 0.641105542025, 0.723542660638, 0.232559051209,
              0.77768627245, 1.26465517913, 1.2181334752},
  knn_median = {0.673199689294, 0.823875837026, 0.586624559999, 0.730400904338,
                0.273047741162, 0.820777914765, 1.28275870089, 1.2343409581},
  knn_self_auc = 0.973333,
  knn_self = {1.11457041062, 0.81543787956, 0.744226134877, 1.05771233312, 0.615290345437,
              0.649369297667, 0.844462792855, 2.67146192142},
}
local TOL = 1e-9

local x, y = rows(1, 600)
local train = rows(2, 800, false)
local test, ty = rows(3, 400)

-- LocalOutlierFactor(n_neighbors=20).fit(X).negative_outlier_factor_:
-- lof's batch test of the same rows (negated)
local lof = mw.detect.lof{}
local batch, flagged = lof:test(x)
close(batch, SK.batch_lof, TOL, "lof batch vs negative_outlier_factor_")
local a = auc(batch, y)
assert(math.abs(a - SK.batch_lof_auc) < 0.02, "lof batch AUC " .. a)
assert(#flagged > 30, "lof batch: rows with LOF > 1")
t.eq(lof:count(), 0, "the batch test learns nothing")

-- novelty=True: fit on inliers, score new rows
lof = mw.detect.lof{}
t.eq(lof:fit(train), lof, "fit returns the detector")
local novelty = lof:run(test)
close(novelty, SK.novelty_lof, TOL, "lof novelty vs score_samples")
a = auc(novelty, ty)
assert(math.abs(a - SK.novelty_lof_auc) < 0.02, "lof novelty AUC " .. a)
-- fitted: frozen, run scores without learning, score == update
check_equal(lof:run(test), novelty, "lof fitted: run again")
t.eq(lof:score(test[8]), novelty[8], "lof fitted: score")
t.eq(lof:update(test[8]), novelty[8], "lof fitted: update")

-- PyOD's KNN: distance to the k-th neighbour (and mean, median)
for _, m in ipairs{"largest", "mean", "median"} do
  local knn = mw.detect.knn{method = m}:fit(train)
  local s = knn:run(test)
  close(s, SK["knn_" .. m], TOL, "knn " .. m .. " vs NearestNeighbors")
  if m == "largest" then
    a = auc(s, ty)
    assert(math.abs(a - SK.knn_auc) < 0.02, "knn AUC " .. a)
  end
end
-- each training row among the others (PyOD's decision_scores_)
local self_scores = mw.detect.knn{}:test(x)
close(self_scores, SK.knn_self, TOL, "knn batch test vs kneighbors less self")
a = auc(self_scores, y)
assert(math.abs(a - SK.knn_self_auc) < 0.02, "knn batch AUC " .. a)

-- ---- streaming: detection rates on a stream with known anomalies ------------

-- A stream of 4000 rows, an outlier every 20th: measured AUC 0.9856 (knn)
-- and 0.9860 (lof) with the default window of 1000 rows; the exact LOF of
-- each row against the 1000 before it (scikit-learn, novelty=True, refit
-- for every row: neighbours_ref.py --stream) has 0.9859.
local stream, labels = rows(4, 4000)
local floors = {knn = 0.97, lof = 0.97}
for name, floor in pairs(floors) do
  local s = mw.detect[name]{}:run(stream)
  -- scored rows only: the first k score 0 by definition
  local sc, lb = {}, {}
  for i = 101, #s do sc[#sc + 1] = s[i]; lb[#lb + 1] = labels[i] end
  a = auc(sc, lb)
  print(string.format("%s streaming AUC %.4f (floor %.2f)", name, a, floor))
  assert(a >= floor, name .. " streaming AUC " .. a)
end

-- The streaming LOF against the exact LOF of the same row against the
-- window it is scored with (a fit of the 1000 rows before it): the
-- approximation (values kept from each row's arrival) is within a few
-- percent once the window is full (measured: median 1.4%, worst 4.6%).
do
  local streamed = mw.detect.lof{}:run(stream)
  local errs = {}
  for i = 1500, 4000, 50 do
    local ref = {}
    for j = i - 1000, i - 1 do ref[#ref + 1] = stream[j] end
    local exact = mw.detect.lof{}:fit(ref):score(stream[i])
    errs[#errs + 1] = math.abs(streamed[i] - exact) / exact
  end
  table.sort(errs)
  local median, worst = errs[#errs // 2], errs[#errs]
  print(string.format("streaming lof vs exact: median error %.4f, worst %.4f", median, worst))
  assert(median < 0.03 and worst < 0.15, "streaming lof drifts from the exact LOF")
end

-- ---- the row protocol ---------------------------------------------------------

local cols = {}
for k = 1, 4 do
  local c = {}
  for i = 1, 1500 do c[i] = stream[i][k] end
  cols[k] = mw.series(c)
end
local frame = mw.frame{timestamp = mw.series.range(1, 1500) * 1000, a = cols[1], b = cols[2],
                       c = cols[3], d = cols[4]}
for _, cfg in ipairs{{"knn", {k = 3, window = 200}}, {"knn", {method = "median", k = 4}},
                     {"lof", {k = 10, window = 150}}, {"lof", {}}} do
  local name, params = cfg[1], cfg[2]
  local what = name .. " " .. tostring(mw.detect[name](params))
  local ran = mw.detect[name](params):run(frame)
  t.eq(ran:time(1500), 1500000, what .. ": a frame's timestamps")
  local looped, d = {}, mw.detect[name](params)
  for i = 1, 1500 do looped[i] = d:update(stream[i]) end
  check_equal(ran, looped, what .. ": run vs update")
  check_equal(mw.detect[name](params):run(cols), ran, what .. ": a list of series")
  -- save in the middle, load, continue; clone
  local half = mw.detect[name](params)
  for i = 1, 700 do half:update(stream[i]) end
  local saved = half:save()
  local back = mw.detect.load(saved)
  t.eq(back:dims(), 4, what .. ": width saved")
  t.eq(back:bytes(), half:bytes(), what .. ": bytes after load")
  local copy = half:clone()
  for i = 701, 1500 do
    t.eq(back:update(stream[i]), ran[i], what .. ": save/load continuation at " .. i)
    t.eq(copy:update(stream[i]), ran[i], what .. ": clone continuation at " .. i)
  end
  -- corrupt states are refused
  for _, at in ipairs{#saved // 3, #saved // 2, #saved - 9} do
    local bad = saved:sub(1, at - 1) .. string.char((saved:byte(at) + 1) % 256) .. saved:sub(at + 1)
    t.raises("bad detector state", mw.detect.load, bad)
  end
  t.raises("bad detector state", mw.detect.load, saved:sub(1, #saved - 20))
  -- NaN rows: NaN out, nothing learned
  local e, f = mw.detect[name](params), mw.detect[name](params)
  for i = 1, 300 do
    local s1 = e:update(stream[i])
    if i % 50 == 0 then
      local skipped = e:update({1, 0 / 0, 2, 3})
      assert(skipped ~= skipped, what .. ": NaN row")
      assert(e:update({math.huge, 1, 2, 3}) ~= e:update({1, 2, 3, -math.huge}), what .. ": inf row")
    end
    t.eq(s1, f:update(stream[i]), what .. ": NaN rows skipped, at " .. i)
  end
  t.eq(e:count(), 300, what .. ": rows learned")
  t.raises("rows of 3 values, but this " .. name .. " scores rows of 4", e.update, e, {1, 2, 3})
  -- reset: like new
  e:reset()
  t.eq(e:count(), 0, what .. ": reset")
  check_equal(e:run(frame), ran, what .. ": after reset")
end

-- a saved fitted detector stays fitted
local fitted = mw.detect.lof{k = 5}:fit(train)
local moved = mw.detect.load(fitted:save())
t.eq(moved:score(test[8]), fitted:score(test[8]), "lof fitted: save/load")
moved:run(test)
t.eq(moved:score(test[8]), fitted:score(test[8]), "lof fitted after load: frozen")
moved:reset()
t.eq(moved:score(test[8]), 0, "lof reset: the fitted rows are gone")

-- knn and lof by hand on a tiny sample
local square = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}
local k2 = mw.detect.knn{k = 2, method = "mean"}:fit(square)
t.eq(k2:score({3, 0}), (2 + math.sqrt(5)) / 2, "knn mean by hand")
t.eq(mw.detect.knn{k = 3, method = "median"}:fit(square):score({3, 0}), math.sqrt(5),
     "knn median of 3 by hand")
-- lof: in the unit square every k-distance (k=2) is 1, every lrd 1/(1+1e-10),
-- so a row at the centre (reach-dist 1 to each) has LOF 1 and one at
-- (3, 0) (distances 2 and sqrt 5) LOF (2 + sqrt 5) / 2
local l2 = mw.detect.lof{k = 2}:fit(square)
close({l2:score({0.5, 0.5}), l2:score({3, 0})}, {1, (2 + math.sqrt(5)) / 2}, 1e-9, "lof by hand")
-- duplicates: a large, finite LOF (scikit-learn's 1e-10 in the density)
local dup = mw.detect.lof{k = 2}:fit{{1, 1}, {1, 1}, {1, 1}, {1, 1}}
local big = dup:score({2, 2})
assert(big > 1e9 and big < math.huge, "lof over duplicates: " .. big)
t.eq(dup:score({1, 1}), 1, "lof of a duplicate among duplicates")

-- ---- memory ---------------------------------------------------------------------

-- The window is allocated when the first row fixes the width:
-- knn window * dims doubles, lof also 2 per row (k-distance, density).
local kd = mw.detect.knn{window = 1000}
local base = kd:bytes()
kd:update({1, 2, 3, 4})
t.eq(kd:bytes() - base, 1000 * 4 * 8, "knn bytes: the window")
local ld = mw.detect.lof{window = 1000}
base = ld:bytes()
ld:update({1, 2, 3, 4})
t.eq(ld:bytes() - base, 1000 * (4 + 2) * 8, "lof bytes: the window and two figures a row")
print(string.format("bytes per detector, 4 values a row, window 1000: knn %d, lof %d",
                    kd:bytes(), ld:bytes()))
-- a window past the budget fails cleanly, and the detector stays usable
t.fullgc()
mw.mem.limit(mw.mem.stats().total + 2 ^ 20)
local huge = mw.detect.lof{window = 1e6}
local ok, err = pcall(huge.update, huge, {1, 2, 3, 4})
mw.mem.limit(false)
assert(not ok and tostring(err):find("memory limit exceeded", 1, true), "a huge window: " .. tostring(err))
t.eq(huge:dims(), nil, "no width fixed by a failed first row")
t.eq(huge:update({1, 2, 3, 4}), 0, "the first row, once memory allows")

-- ---- parameters and errors ----------------------------------------------------------

t.raises("window must be at least k (5), got 3", mw.detect.knn, {window = 3})
t.raises("window must be more than k (20), got 20", mw.detect.lof, {window = 20})
t.raises("k must be an integer in [1, 1000]", mw.detect.knn, {k = 0})
t.raises("method must be one of 'largest', 'mean', 'median'", mw.detect.knn, {method = "max"})
t.raises("fit takes k + 1 (21) to window (100) rows, got 800: raise window",
         function() mw.detect.lof{window = 100}:fit(train) end)
t.raises("fit takes k (5) to window (1000) rows, got 2",
         function() mw.detect.knn{}:fit{{1, 2}, {3, 4}} end)
t.raises("needs more than k (20) rows, got 4", function() mw.detect.lof{}:test(square) end)
t.raises("has no fit", function() mw.detect.zscore{}:fit(square) end)
-- before k rows: 0, finite
t.eq(mw.detect.knn{}:update({1, 2}), 0, "knn: 0 before k rows")
t.eq(mw.detect.lof{}:update({1, 2}), 0, "lof: 0 before k + 1 rows")

-- ---- rows far from all others (found by fuzzing, issue #12) -------------------------

-- A finite row 1e300 away: every squared distance overflows to infinity.
-- The search still returns k neighbours (lof read uninitialised indices
-- and crashed), the scores are infinite, and what lof learned from it
-- (an infinite k-distance, density 0) saves and loads (load refused it).
for _, kind in ipairs({"knn", "lof"}) do
  local d = mw.detect[kind]{k = 3, window = 16}
  for i = 1, 40 do d:update({math.sin(i / 5) * 3, math.cos(i / 7), (i % 9) / 3}) end
  local far = d:update({-3.2, -1e300, -4.2})
  t.eq(far, math.huge, kind .. ": a row 1e300 away scores infinity")
  local copy = mw.detect.load(d:save())
  for i = 1, 20 do
    local row = {math.sin(i), 1e300 * (i % 2), i}
    local a, b = copy:update(row), d:update(row)
    t.eq(t.same(a, b), true, kind .. ": the reloaded copy continues alike, row " .. i)
  end
end
