-- detect_iforest.lua: the multivariate kinds iforest, hbos and loda.
--
-- Isolation forest against the paper's definition (c(n) and path lengths
-- on a hand-built tree, loaded from a crafted state) and against
-- scikit-learn's IsolationForest on rows shaped like the ODDS 'shuttle'
-- set (the references from tests/tools/iforest_ref.py, which makes the
-- same rows); hbos against a naive implementation; detection floors (ROC
-- AUC) for all three; streaming before and after fit; save/load
-- continuation; memory in bytes; errors.
local t = require "helper"

-- ---- data and ROC AUC ----------------------------------------------------

local shuttle_like = require "shuttle"

-- ROC AUC by ranks (Mann-Whitney U), ties given their average rank.
local roc_auc = t.roc_auc

-- sklearn.metrics.roc_auc_score on this case: 0.4687500000 (iforest_ref.py)
t.eq(roc_auc({0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.8}, {0, 0, 1, 1, 1, 0, 1, 0}), 0.46875,
     "rank AUC with ties == roc_auc_score")

local same, check_equal = t.same, t.equal_values

local cols, labels = shuttle_like()
-- the same rows as iforest_ref.py: 3483 outliers, the first values
local outliers = 0
for i = 1, #labels do outliers = outliers + labels[i] end
t.eq(#labels, 49097, "rows")
t.eq(outliers, 3483, "outliers, as iforest_ref.py counts them")
t.eq(cols[1][1], -0.21003522877757122, "first value, as iforest_ref.py")
t.eq(cols[3][1], 0.7334622475076016, "third value, as iforest_ref.py")
local data = {}
for k = 1, 9 do data[k] = mw.series(cols[k]) end
local frame_cols = {}
for k = 1, 9 do frame_cols["x" .. k] = data[k] end
local frame = mw.frame(frame_cols)

-- ---- iforest: the paper's definition ------------------------------------

local EULER = 0.5772156649015329
local function c(n)
  if n > 2 then return 2 * (math.log(n - 1) + EULER) - 2 * (n - 1) / n end
  return n == 2 and 1 or 0
end
-- c(256) = 10.244770920119 (the paper's normaliser for the default sample)
assert(math.abs(c(256) - 10.244770920119) < 1e-9, "c(256)")

-- A hand-built tree of 5 training rows (sample 5: depth ceil(log2 5) = 3):
--   root: x1 < 0.5 ?  left: leaf of 3 rows (depth 1)
--                     right: x2 < 2 ? leaf of 1 row : leaf of 1 row (depth 2)
-- Path lengths: 1 + c(3) on the left, 2 + c(1) = 2 on the right.
local function state_of(name, params, learned, dims, body)
  local head = "MWDS" .. string.char(1, #name) .. name .. string.char(#params)
  for _, v in ipairs(params) do head = head .. string.pack("<d", v) end
  head = head .. string.pack("<I8<I8", learned, dims)
  return t.reseal(head .. body)
end
local LEAF = 0xffffffff
local function tiny_tree(nodes)
  local body = string.pack("<B", 1) .. string.pack("<I8I8I8I8", 1, 2, 3, 4) ..
               string.pack("<Bd", 0, 0) .. string.pack("<I8", 5) .. string.pack("<I4", #nodes)
  for _, n in ipairs(nodes) do
    if n[1] == LEAF then body = body .. string.pack("<I4I4", LEAF, n[2])
    else body = body .. string.pack("<I4I4d", n[1], n[2], n[3]) end
  end
  return state_of("iforest", {1, 5, 42}, 5, 2, body)
end
local tree = {{0, 1, 0.5}, {LEAF, 3}, {1, 3, 2.0}, {LEAF, 1}, {LEAF, 1}}
local hand = mw.detect.load(tiny_tree(tree))
t.eq(hand:dims(), 2, "hand-built forest: rows of 2")
local function near(a, b, tol, what)
  if math.abs(a - b) > tol then error(string.format("%s: %.17g, want %.17g", what, a, b), 2) end
end
near(hand:score{0.0, 9.0}, 2 ^ (-(1 + c(3)) / c(5)), 1e-15, "left leaf: 2^-((1 + c(3)) / c(5))")
near(hand:score{0.5, 1.0}, 2 ^ (-2 / c(5)), 1e-15, "right-left leaf: 2^-(2 / c(5))")
near(hand:score{7.0, 2.0}, 2 ^ (-2 / c(5)), 1e-15, "right-right leaf (x >= split goes right)")
near(hand:update{0.0, 0.0}, 2 ^ (-(1 + c(3)) / c(5)), 1e-15, "a fitted forest scores on update")
check_equal(hand:run{{0.0, 9.0}, {0.5, 1.0}, {7.0, 2.0}},
            {hand:score{0.0, 9.0}, hand:score{0.5, 1.0}, hand:score{7.0, 2.0}},
            "the block path: at a split value, right")
-- the kind's own checks refuse a tree that is not one
for _, bad in ipairs{
  {{{0, 1, 0.5}, {LEAF, 3}, {1, 1, 2.0}, {LEAF, 1}, {LEAF, 1}}, "misplaced children"},
  {{{2, 1, 0.5}, {LEAF, 3}, {LEAF, 1}}, "split feature out of range"},
  {{{0, 1, 0.5}, {LEAF, 6}, {LEAF, 1}}, "leaf size out of range"},
  {{{0, 1, 0.5}, {LEAF, 3}, {LEAF, 1}, {LEAF, 1}}, "has no parent"},
  {{{0, 1, 0.5}, {LEAF, 3}, {1, 3, 0 / 0}, {LEAF, 1}, {LEAF, 1}}, "split value is not a finite"},
  {{{0, 1, 0.5}, {LEAF, 1}, {LEAF, 1}, {LEAF, 1}, {LEAF, 1}, {LEAF, 1}, {LEAF, 1}, {LEAF, 1},
    {LEAF, 1}, {LEAF, 1}}, "tree size out of range (10, 1 to 9)"},
  -- a split at depth 3: ceil(log2 5) = 3 levels of splits at most
  {{{0, 1, 0.5}, {0, 3, 0.1}, {LEAF, 1}, {0, 5, 0.0}, {LEAF, 1}, {0, 7, -1}, {LEAF, 1}, {LEAF, 1},
    {LEAF, 1}}, "tree deeper than 3"},
} do
  t.raises(bad[2], mw.detect.load, tiny_tree(bad[1]))
end

-- Identical rows cannot be split: every tree is one leaf of psi rows, so
-- every path is c(psi) and every score 2^-1.
do
  local flat = {}
  for i = 1, 300 do flat[i] = {1.0, 2.0, 3.0} end
  local d = mw.detect.iforest{n_trees = 10}:fit(flat)
  t.eq(d:score{1.0, 2.0, 3.0}, 0.5, "identical rows: 2^-1")
  t.eq(d:score{-50, 2.0, 3.0}, 0.5, "a one-leaf forest cannot tell")
  -- two distinct rows, sample 2: depth 1, one split, leaves of 1 row:
  -- h = 1 and c(2) = 1, so every score is 2^-1 too
  local two = mw.detect.iforest{sample = 2}:fit{{0, 0}, {1, 1}}
  t.eq(two:score{0.5, 7}, 0.5, "sample 2: h = 1, c(2) = 1")
end

-- ---- iforest against scikit-learn ----------------------------------------

-- sklearn IsolationForest(n_estimators=100, max_samples=256, n_jobs=1)
-- on these rows, random_state 0..4 (iforest_ref.py):
--   0.9846 0.9799 0.9830 0.9833 0.9876, mean 0.9837
local SKLEARN_AUC = 0.9837
local aucs = {}
for seed = 1, 3 do
  local d = mw.detect.iforest{seed = seed}
  t.eq(d:fit(data), d, "fit returns the detector")
  t.eq(d:count(), 49097, "fit: rows learned")
  local scores = d:run(data)
  aucs[seed] = roc_auc(scores, labels)
  -- measured: 0.9836, 0.9853, 0.9858
  assert(math.abs(aucs[seed] - SKLEARN_AUC) <= 0.02,
         string.format("iforest seed %d: AUC %.4f, sklearn %.4f", seed, aucs[seed], SKLEARN_AUC))
  for i = 1, #scores, 997 do
    assert(scores[i] > 0 and scores[i] <= 1, "scores in (0, 1]")
  end
end
-- the same seed, the same forest: a frame's columns give the same scores
check_equal(mw.detect.iforest{seed = 1}:fit(frame, {"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"})
              :run(frame, {"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"}),
            mw.detect.iforest{seed = 1}:fit(data):run(data), "frame columns == list of series")
assert(roc_auc(mw.detect.iforest{seed = 1}:fit(data):run(data), labels) == aucs[1], "reproducible")

-- ---- streaming ------------------------------------------------------------

-- A stream buffers its first `sample` rows (scored 0), fits itself on
-- them, then scores: the same forest as fit on those rows.
local first, rest = {}, {}
for k = 1, 9 do
  first[k] = data[k]:slice(1, 256)
  rest[k] = data[k]:slice(257, 5000)
end
do
  local stream = mw.detect.iforest{}
  local warm = stream:run(first)
  for i = 1, 256 do t.eq(warm[i], 0.0, "warm-up rows score 0") end
  local after = stream:run(rest)
  check_equal(after, mw.detect.iforest{}:fit(first):run(rest), "stream == fit on its first rows")
  t.eq(stream:count(), 5000, "rows learned")
  -- row by row, and scores after the forest is built do not learn
  local one = mw.detect.iforest{}
  for i = 1, 256 do one:update{first[1][i], first[2][i], first[3][i], first[4][i], first[5][i],
                               first[6][i], first[7][i], first[8][i], first[9][i]} end
  local row = {rest[1][1], rest[2][1], rest[3][1], rest[4][1], rest[5][1], rest[6][1], rest[7][1],
               rest[8][1], rest[9][1]}
  t.eq(one:score(row), after[1], "update row by row == run")
  t.eq(one:update(row), after[1], "update scores")
  t.eq(one:update(row), after[1], "and does not learn")
end

-- ---- save/load: every kind continues exactly ------------------------------

local small = {}
for k = 1, 9 do small[k] = data[k]:slice(1, 3000) end
local function rows_of(cols_, from, to)
  local out = {}
  for k = 1, #cols_ do out[k] = cols_[k]:slice(from, to) end
  return out
end
for _, kind in ipairs{"iforest", "hbos", "loda"} do
  local whole = mw.detect[kind]{}:run(small)
  for _, cut in ipairs{100, 255, 256, 257, 1500} do
    local d = mw.detect[kind]{}
    d:run(rows_of(small, 1, cut))
    local back = mw.detect.load(d:save())
    t.eq(back:bytes(), d:bytes(), kind .. ": loaded bytes")
    check_equal(back:run(rows_of(small, cut + 1, 3000)), whole:slice(cut + 1, 3000),
                kind .. ": save/load at " .. cut)
    check_equal(d:clone():run(rows_of(small, cut + 1, 3000)), whole:slice(cut + 1, 3000),
                kind .. ": clone at " .. cut)
  end
  -- a fitted detector too
  local fitted = mw.detect[kind]{}:fit(rows_of(small, 1, 1000))
  local expect = mw.detect.load(fitted:save()):run(small)
  check_equal(fitted:run(small), expect, kind .. ": fitted, saved and loaded")
  -- update on rows == run
  local u, r = mw.detect[kind]{}, mw.detect[kind]{}
  local by_update = {}
  for i = 1, 600 do
    local row = {}
    for k = 1, 9 do row[k] = small[k][i] end
    by_update[i] = u:update(row)
  end
  check_equal(by_update, r:run(rows_of(small, 1, 600)), kind .. ": update == run on rows")
  -- a non-finite row scores NaN and changes nothing
  local v = mw.detect[kind]{}
  v:run(rows_of(small, 1, 300))
  local before = v:save()
  local nan_row = {1, 2, 3, 4, 0 / 0, 6, 7, 8, 9}
  local s = v:update(nan_row)
  assert(s ~= s, kind .. ": NaN row scores NaN")
  t.eq(v:save(), before, kind .. ": a NaN row changes nothing")
  -- widths are fixed by the first row
  t.raises("rows of 2 values, but this " .. kind .. " scores rows of 9", v.update, v, {1, 2})
  t.raises("at least", function() mw.detect[kind]{}:fit{{0 / 0, 1}} end)
end
t.raises("iforest needs at least 2 rows to fit (got 1)", function() mw.detect.iforest{}:fit{{1, 2}} end)
t.raises("n_trees must be an integer in [1, 10000]", mw.detect.iforest, {n_trees = 0})
t.raises("sample must be an integer in [2, 65536]", mw.detect.iforest, {sample = 1e6})
t.raises("bins must be an integer in [1, 100000]", mw.detect.hbos, {bins = 0})
t.raises("projections must be an integer in [1, 10000]", mw.detect.loda, {projections = 1e5})

-- ---- hbos against a naive implementation ---------------------------------

-- Fitted on 2000 rows of 3 features, frozen: sum_k log(peak_k / count_k),
-- an empty bin or a value outside the range counting half a row.
do
  local n, bins = 2000, 7
  local sub = rows_of(data, 1, n)
  local X = {}
  for k = 1, 3 do X[k] = {} for i = 1, n do X[k][i] = sub[k][i] end end
  local lo, hi, counts, peak = {}, {}, {}, {}
  for k = 1, 3 do
    lo[k], hi[k] = math.huge, -math.huge
    for i = 1, n do lo[k] = math.min(lo[k], X[k][i]); hi[k] = math.max(hi[k], X[k][i]) end
  end
  local function bin(k, x)
    if x < lo[k] or x > hi[k] then return nil end
    return math.min(math.floor((x - lo[k]) * (bins / (hi[k] - lo[k]))), bins - 1)
  end
  for k = 1, 3 do
    counts[k], peak[k] = {}, 0
    for b = 0, bins - 1 do counts[k][b] = 0 end
    for i = 1, n do
      local b = bin(k, X[k][i])
      counts[k][b] = counts[k][b] + 1
      peak[k] = math.max(peak[k], counts[k][b])
    end
  end
  local h = mw.detect.hbos{bins = bins, online = false}:fit({sub[1], sub[2], sub[3]})
  local probe = rows_of(data, n + 1, n + 500)
  local got = h:run({probe[1], probe[2], probe[3]})
  for i = 1, 500 do
    local want = 0
    for k = 1, 3 do
      local b = bin(k, probe[k][i])
      local cnt = b and counts[k][b] or 0
      want = want + math.log(peak[k] / (cnt > 0 and cnt or 0.5))
    end
    near(got[i], want, 1e-12 * math.max(1, want), "hbos row " .. i)
  end
  -- frozen: run did not count; online: it does
  check_equal(h:run({probe[1], probe[2], probe[3]}), got, "hbos online=false learns nothing")
  local o = mw.detect.hbos{bins = bins}:fit({sub[1], sub[2], sub[3]})
  local again = o:run({probe[1], probe[2], probe[3]})
  t.eq(again[1], got[1], "online: the first row scores as frozen")
  local grown = o:run({probe[1], probe[2], probe[3]})
  assert(grown[1] ~= got[1], "online: the counts grew")
end

-- ---- detection floors ------------------------------------------------------

-- Batch: fit on all rows, score them frozen. Streaming: the first 256
-- rows set the bins, then each row is scored before it is counted.
local hbos_auc = roc_auc(mw.detect.hbos{online = false}:fit(data):run(data), labels)
local loda_auc = roc_auc(mw.detect.loda{online = false}:fit(data):run(data), labels)
local hbos_stream = roc_auc(mw.detect.hbos{}:run(data), labels)
local loda_stream = roc_auc(mw.detect.loda{}:run(data), labels)
local iforest_stream = roc_auc(mw.detect.iforest{}:run(data), labels)
-- measured: hbos 0.9731, loda 0.9754; streaming: iforest 0.9739, hbos 0.9714, loda 0.9753
print(string.format("AUC: iforest %.4f %.4f %.4f (sklearn %.4f), hbos %.4f, loda %.4f; " ..
                    "streaming: iforest %.4f, hbos %.4f, loda %.4f", aucs[1], aucs[2], aucs[3],
                    SKLEARN_AUC, hbos_auc, loda_auc, iforest_stream, hbos_stream, loda_stream))
assert(hbos_auc >= 0.95, "hbos AUC " .. hbos_auc)
assert(loda_auc >= 0.95, "loda AUC " .. loda_auc)
assert(hbos_stream >= 0.95, "hbos streaming AUC " .. hbos_stream)
assert(loda_stream >= 0.95, "loda streaming AUC " .. loda_stream)
assert(iforest_stream >= 0.95, "iforest streaming AUC " .. iforest_stream)

-- ---- memory ----------------------------------------------------------------

-- iforest: 28 bytes per node slot, n_trees (2 sample - 1) slots, and 4
-- per tree, at creation; sample (8 dims + 8) + 4 dims with the first row.
-- hbos: dims (8 bins + 32) + 8 window dims. loda: k (12 nnz + 8 bins +
-- 40) + 8 window dims, nnz = round(sqrt(dims)).
do
  local f = mw.detect.iforest{}
  local base = f:bytes()
  t.eq(base - mw.detect.iforest{n_trees = 1, sample = 2}:bytes(), 28 * (100 * 511 - 3) + 4 * 99,
       "iforest: bytes of the trees")
  f:update{1, 2, 3, 4, 5, 6, 7, 8, 9}
  t.eq(f:bytes() - base, 256 * (8 * 9 + 8) + 4 * 9, "iforest: bytes of the buffer")
  t.fullgc()
  local native = mw.mem.stats().native
  f:release()
  t.eq(native - mw.mem.stats().native, base + 256 * 80 + 36, "iforest: every byte given back")
  local h = mw.detect.hbos{}
  local h0 = h:bytes()
  h:update{1, 2, 3, 4, 5, 6, 7, 8, 9}
  t.eq(h:bytes() - h0, 9 * (8 * 10 + 32) + 8 * 256 * 9, "hbos: bytes")
  local l = mw.detect.loda{}
  local l0 = l:bytes()
  l:update{1, 2, 3, 4, 5, 6, 7, 8, 9}
  t.eq(l:bytes() - l0, 100 * (12 * 3 + 8 * 10 + 40) + 8 * 256 * 9, "loda: bytes")
end
