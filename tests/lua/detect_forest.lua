-- detect_forest.lua: the streaming forests mw.detect.hst (Half-Space
-- Trees) and mw.detect.rrcf (Robust Random Cut Forest): hand-checkable
-- cases, detection rates (ROC AUC) on 10-dimensional Gaussian clusters
-- with 1% injected far points, the row protocol (run == update, score
-- before update, save/load and clone continue exactly, reset), shingles,
-- memory, and corrupt state.
local t = require "helper"

local same, check_equal = t.same, t.equal_values

-- ---- data: Gaussian clusters in 10 dimensions, 1% far points ----------

local DIMS = 10
-- rows (list of tables) and labels (1 for an injected far point).
local function clusters(n, seed)
  local state = seed
  local function uniform()   -- a small LCG: the test needs no library RNG
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return ((state >> 11) & ((1 << 52) - 1)) / (1 << 52)
  end
  local function normal()
    local u1, u2 = uniform(), uniform()
    if u1 < 1e-300 then u1 = 1e-300 end
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
  end
  local centres = {}
  for c = 1, 3 do
    centres[c] = {}
    for k = 1, DIMS do centres[c][k] = (c - 2) * 4 + (k % 3) end
  end
  local rows, labels = {}, {}
  for i = 1, n do
    local row = {}
    local far = i > 300 and uniform() < 0.01
    local c = centres[1 + math.floor(uniform() * 3)]
    for k = 1, DIMS do
      row[k] = far and (uniform() * 40 - 20) or c[k] + normal()
    end
    rows[i], labels[i] = row, far and 1 or 0
  end
  return rows, labels
end

-- ROC AUC by ranks (ties get half), over rows from `from` on.
local auc = t.roc_auc

local rows, labels = clusters(6000, 7)

local hst = mw.detect.hst{}
local hst_scores = hst:run(rows)
local hst_auc, n_far = auc(hst_scores, labels, 251)
local rrcf = mw.detect.rrcf{}
local rrcf_scores = rrcf:run(rows)
local rrcf_auc = auc(rrcf_scores, labels, 251)
print(string.format("ROC AUC on 6000 rows of 10-d clusters, %d far points: hst %.4f, rrcf %.4f",
                    n_far, hst_auc, rrcf_auc))
assert(n_far >= 30, "far points injected: " .. n_far)
assert(hst_auc >= 0.97, "hst ROC AUC floor: " .. hst_auc)
assert(rrcf_auc >= 0.97, "rrcf ROC AUC floor: " .. rrcf_auc)

-- hst with limits = "unit" on the same rows scaled to [0, 1] by their
-- known range (River's setting) detects them as well.
do
  local scaled = {}
  for i, row in ipairs(rows) do
    local s = {}
    for k = 1, DIMS do s[k] = (row[k] + 20) / 40 end
    scaled[i] = s
  end
  local unit_auc = auc(mw.detect.hst{limits = "unit"}:run(scaled), labels, 251)
  print(string.format("hst limits='unit' on rows scaled to [0, 1]: ROC AUC %.4f", unit_auc))
  assert(unit_auc >= 0.95, "hst unit ROC AUC floor: " .. unit_auc)
end

-- ---- hst by hand ---------------------------------------------------------

do
  -- The first window scores 0 (no reference yet), then scores are in [0, 1].
  for i = 1, 250 do t.eq(hst_scores[i], 0, "hst: first window scores 0") end
  for i = 251, #hst_scores do
    assert(hst_scores[i] >= 0 and hst_scores[i] <= 1, "hst score in [0, 1]")
  end
  -- A point far from everything lands in cells that were empty: it scores
  -- higher than the centre of a cluster, close to 1.
  local d = mw.detect.hst{window_size = 100}
  local state, seen = 3, {}
  for i = 1, 300 do
    state = (state * 48271) % 2147483647
    local u = state / 2147483647
    seen[i] = {u, 1 - u, 0.5 + 0.1 * u}
    d:update(seen[i])
  end
  local far = d:score{50, 50, 50}    -- u and 1 - u both high: off the line
  local worst = 0
  for i = 201, 300 do worst = math.max(worst, d:score(seen[i])) end
  assert(far > 0.9, "hst: far point close to 1: " .. far)
  assert(far > worst, "hst: far point above every row of the window: " .. far .. " vs " .. worst)
  -- The score is River's: 1 - sum of reference masses * 2^depth along the
  -- path (stopping below 0.1 window) / (n_trees window (2^(height+1) - 1)).
  -- With one tree of height 1 and one feature, a window of 4 rows all at
  -- 0.5: the split falls inside the widened range; a row at 0.5 passes
  -- the root (mass 4) and its leaf (mass 4): 1 - (4 + 4 * 2) / (4 * 3) = 0;
  -- a row far away passes the root (4) and an empty leaf: 1 - 4 / 12.
  local one = mw.detect.hst{n_trees = 1, height = 1, window_size = 4}
  for _ = 1, 4 do one:update{0.5} end
  t.eq(one:score{0.5}, 0.0, "hst: a row where the whole window was")
  local function near(a, b, what) assert(math.abs(a - b) < 1e-12, what .. ": " .. a .. " vs " .. b) end
  local far_side = one:score{1e6} > 0.1 and 1e6 or -1e6
  near(one:score{far_side}, 1 - 4 / 12, "hst: the root only")
  -- Windows swap every window_size rows: after 4 rows elsewhere, 0.5 is new.
  for _ = 1, 4 do one:update{far_side} end
  t.eq(one:score{far_side}, 0.0, "hst: the new window is the reference")
  near(one:score{0.5}, 1 - 4 / 12, "hst: the old place is empty now")
  -- The descent stops after the first node below 0.1 window (here 2): one
  -- tree of height 2 on 19 rows at 0.5 and one at 1.5. Every root split
  -- falls in (0.5, 1.5) (the padded middle of the widened range), so 1.5
  -- passes the root (20), then a node holding only itself (1 < 2): the
  -- sum stops there, 20 + 1 * 2, before its leaf (1 * 4).
  local stop = mw.detect.hst{n_trees = 1, height = 2, window_size = 20}
  for i = 1, 20 do stop:update{i == 20 and 1.5 or 0.5} end
  near(stop:score{1.5}, 1 - 22 / (20 * 7), "hst: the descent stops below the size limit")
  t.raises("height must be an integer in [1, 20]", mw.detect.hst, {height = 30})
  t.raises("limits must be one of 'window', 'unit'", mw.detect.hst, {limits = "auto"})
end

-- ---- rrcf by hand --------------------------------------------------------

do
  -- One tree, a window of 2, one dimension: the numbers follow from the
  -- counts whatever the cuts.
  local d = mw.detect.rrcf{n_trees = 1, tree_size = 2}
  t.eq(d:update{0}, 0, "rrcf: alone in the tree")
  t.eq(d:update{1}, 1, "rrcf: two points: 1 / 1")
  t.eq(d:score{1}, 0.5, "rrcf: a duplicate counts twice: 1 / 2")
  t.eq(d:update{1}, 0.5, "rrcf: update gives the score")
  -- The window keeps 2 points: 0 is gone, the two 1s share a leaf.
  t.eq(d:update{5}, 2, "rrcf: 5 against the duplicate pair: 2 / 1")
  t.eq(d:count(), 4, "rrcf: rows learned")

  -- Three points close together and one far: the far one is cut off first
  -- (with probability 0.98 per tree), so its CoDisp is about 3 = 3 / 1.
  local e = mw.detect.rrcf{tree_size = 8}
  for _, v in ipairs{0, 0.1, 0.2} do e:update{v, v} end
  local far = e:score{10, 10}
  local near = e:score{0.15, 0.15}
  assert(far > 2.5 and far <= 3, "rrcf: far point's CoDisp about 3: " .. far)
  assert(near < far, "rrcf: a point inside the cluster scores less: " .. near)

  -- The far point of a cluster scores highest among all.
  local f = mw.detect.rrcf{tree_size = 64}
  local best, best_at = -1, 0
  for i = 1, 200 do
    local x = (i * 7919 % 101) / 101
    local row = i == 150 and {30, 30, 30} or {x, 1 - x, x * x}
    local s = f:update(row)
    if s > best then best, best_at = s, i end
  end
  t.eq(best_at, 150, "rrcf: the far point scores highest")

  -- Constant input: every point a duplicate; the window still turns over.
  local g = mw.detect.rrcf{tree_size = 16, n_trees = 5}
  for _ = 1, 100 do g:update{3, 3} end
  local after = g:update{3, 4}
  t.eq(after, 16, "rrcf: a new point beside 16 duplicates: 16 / 1")
  local h = mw.detect.load(g:save())
  t.eq(h:update{3, 4}, g:update{3, 4}, "rrcf: duplicates survive save/load")

  t.raises("tree_size must be an integer in [1, 1000000]", mw.detect.rrcf, {tree_size = 0})
  t.raises("make points of more than 65536 values",
           function() mw.detect.rrcf{shingle = 1000}:update(mw.series.full(100, 1)) end)
end

-- ---- shingles ------------------------------------------------------------

do
  -- A sine with one spike: with shingle = 4 on the plain series, the
  -- spike's shingles score highest; the first 3 values only fill it.
  local n = 600
  local xs = {}
  for i = 1, n do xs[i] = math.sin(i * 2 * math.pi / 40) end
  xs[400] = 3
  local d = mw.detect.rrcf{shingle = 4, tree_size = 128}
  local s = d:run(mw.series(xs))
  for i = 1, 3 do t.eq(s[i], 0, "rrcf shingle: filling") end
  local best_at, best = 0, -1
  for i = 200, n do if s[i] > best then best, best_at = s[i], i end end
  assert(best_at >= 400 and best_at <= 403, "rrcf shingle: spike found at " .. best_at)
  -- update on plain numbers, score before update, save in the middle
  local e = mw.detect.rrcf{shingle = 4, tree_size = 128}
  for i = 1, 300 do
    if i > 1 then t.eq(e:score(xs[i]), e:update(xs[i]), "rrcf shingle: score == update")
    else e:update(xs[i]) end
  end
  local loaded = mw.detect.load(e:save())
  for i = 301, n do t.eq(loaded:update(xs[i]), s[i], "rrcf shingle: continue after load") end
end

-- ---- the row protocol ----------------------------------------------------

local function protocol(name, params, data)
  local make = function() return mw.detect[name](params) end
  local a = make()
  local ran = a:run(data)
  local b = make()
  local looped = {}
  for i, row in ipairs(data) do looped[i] = b:update(row) end
  check_equal(ran, looped, name .. ": run vs update")
  t.eq(a:dims(), DIMS, name .. ": dims")
  t.eq(a:count(), #data, name .. ": count")

  -- score before update, at several points (before and after a window swap)
  local c = make()
  for i, row in ipairs(data) do
    if i % 97 == 0 then
      local s1, s2 = c:score(row), c:score(row)
      t.eq(s1, s2, name .. ": score twice")
      t.eq(c:update(row), s1, name .. ": update returns score at " .. i)
    else
      c:update(row)
    end
  end

  -- save in the middle (inside and after the first window), load, continue
  for _, cut in ipairs{100, 777} do
    local e = make()
    for i = 1, cut do e:update(data[i]) end
    local saved = e:save()
    local f = mw.detect.load(saved)
    local g = e:clone()
    t.eq(f:bytes(), e:bytes(), name .. ": loaded bytes")
    for i = cut + 1, #data do
      local want = ran[i]
      t.eq(f:update(data[i]), want, name .. ": load continues at " .. i)
      t.eq(g:update(data[i]), want, name .. ": clone continues at " .. i)
    end
    t.raises("bad detector state", mw.detect.load, saved:sub(1, #saved // 2))
  end

  -- reset: like new
  a:reset()
  check_equal(a:run(data), ran, name .. ": after reset")

  -- a series as a row, and a frame of columns
  local d = make()
  local row_series = mw.series(data[1])
  t.eq(d:update(row_series), make():update(data[1]), name .. ": a series as a row")
  local cols, names = {}, {}
  for k = 1, DIMS do
    names[k] = "x" .. k
    local col = {}
    for i = 1, #data do col[i] = data[i][k] end
    cols["x" .. k] = mw.series(col)
  end
  check_equal(make():run(mw.frame(cols), names), ran, name .. ": run over a frame")

  -- a NaN row is skipped
  local h = make()
  local bad = {}
  for k = 1, DIMS do bad[k] = data[1][k] end
  bad[3] = 0 / 0
  local skipped = h:update(bad)
  assert(skipped ~= skipped, name .. ": NaN row gives NaN")
  t.eq(h:count(), 0, name .. ": NaN row not learned")
  t.raises("rows of 3 values, but this " .. name .. " scores rows of 10",
           function() local x = make(); x:update(data[1]); x:update{1, 2, 3} end)
end

local sample = {}
for i = 1, 1200 do sample[i] = rows[i] end
protocol("hst", {window_size = 200}, sample)
protocol("hst", {limits = "unit", window_size = 300, n_trees = 3, height = 5}, sample)
protocol("rrcf", {tree_size = 64, n_trees = 8}, sample)

-- ---- memory --------------------------------------------------------------

do
  local before = mw.mem.stats().native
  local d = mw.detect.hst{}
  d:update(rows[1])
  local hst_bytes = d:bytes()
  -- trees (16 bytes per internal node), two windows of uint32 counts, the
  -- first window's rows and a 2 * dims box, plus the detector's own block
  local arrays = 10 * 255 * 16 + 2 * 10 * 511 * 4 + 250 * DIMS * 8 + 2 * DIMS * 8
  assert(hst_bytes > arrays and hst_bytes < arrays + 1024, "hst bytes: " .. hst_bytes)
  local r = mw.detect.rrcf{}
  r:update(rows[1])
  local rrcf_bytes = r:bytes()
  -- per tree: 256 branches (32 bytes and a box of 2 * 10 doubles), 257
  -- leaves (32 bytes), 2 * 257 slot links; the window of 257 points
  local per_tree = 256 * (32 + 2 * DIMS * 8) + 257 * 32 + 2 * 257 * 4
  local rrcf_arrays = 40 * per_tree + 259 * DIMS * 8
  assert(rrcf_bytes > rrcf_arrays and rrcf_bytes < rrcf_arrays + 4096, "rrcf bytes: " .. rrcf_bytes)
  local grown = mw.mem.stats().native - before
  assert(grown >= hst_bytes + rrcf_bytes, "native bytes count the detectors: " .. grown)
  print(string.format("memory with 10 features, defaults: hst %d bytes, rrcf %d bytes",
                      hst_bytes, rrcf_bytes))
  -- a budget refuses a forest too large, cleanly (about 230 GB here)
  local big = mw.detect.rrcf{tree_size = 1000000, n_trees = 1000}
  local s = mw.mem.stats()
  mw.mem.limit(s.lua + s.native + 256 * 1024 * 1024)
  t.raises("memory limit exceeded", function() big:update(rows[1]) end)
  t.eq(big:count(), 0, "refused forest learned nothing")
  local huge_hst = mw.detect.hst{n_trees = 1000, height = 20}
  t.raises("memory limit exceeded", function() huge_hst:update(rows[1]) end)
  mw.mem.limit(false)
end

-- ---- corrupt state reaching the kinds' own checks -----------------------

do
  local d = mw.detect.hst{window_size = 10, n_trees = 2, height = 2}
  for i = 1, 30 do d:update(rows[i]) end
  local body = d:save()
  body = body:sub(1, #body - 8)
  -- the header: "MWDS", version, name, 5 parameters, count, width; then
  -- the generator (32 bytes), two flags and the window count: the first
  -- node's feature follows
  local at = 4 + 1 + 1 + 3 + 1 + 5 * 8 + 8 + 8 + 32 + 1 + 1 + 8 + 1
  local bad = body:sub(1, at - 1) .. string.pack("<I4", 99) .. body:sub(at + 4)
  t.raises("split feature 99 out of range", mw.detect.load, t.reseal(bad))
  local flags = body:sub(1, at - 11) .. "\2" .. body:sub(at - 9)
  t.raises("inconsistent tree flags", mw.detect.load, t.reseal(flags))

  local r = mw.detect.rrcf{tree_size = 4, n_trees = 2}
  for i = 1, 10 do r:update(rows[i]) end
  local rbody = r:save()
  rbody = rbody:sub(1, #rbody - 8)
  local rat = 4 + 1 + 1 + 4 + 1 + 4 * 8 + 8 + 8 + 32 + 8 + 8 + 8 + 4 * DIMS * 8 + 1
  t.eq(rbody:byte(rat), 1, "rrcf: the first tree starts with a branch")
  local tag = rbody:sub(1, rat - 1) .. "\7" .. rbody:sub(rat + 1)
  t.raises("bad node tag 7", mw.detect.load, t.reseal(tag))
  local dim = rbody:sub(1, rat) .. string.pack("<I4", 4000) .. rbody:sub(rat + 5)
  t.raises("cut dimension 4000 out of range", mw.detect.load, t.reseal(dim))
  local cut = rbody:sub(1, rat + 4) .. string.pack("<d", 1e200) .. rbody:sub(rat + 13)
  t.raises("a cut does not separate its branch", mw.detect.load, t.reseal(cut))
end

print("detect_forest: ok")
