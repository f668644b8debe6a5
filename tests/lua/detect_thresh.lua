-- detect_thresh.lua: the thresholders and calibrators of mw.thresh
-- (constant, quantile, likelihood, calibrate, rest): each against an independent
-- reference, the streaming protocol (update == run, score, save/load,
-- NaN, reset, corrupt state), composition with detectors in chains, and
-- detection rates on mw.synth data.
local t = require "helper"

-- ---- helpers ---------------------------------------------------------

-- The 64-bit LCG of tests/tools/likelihood_ref.py and psquare_ref.py: the
-- same uniforms in Lua and Python (integer arithmetic wraps in both).
local function lcg(seed)
  local state = seed
  return function()
    state = state * 6364136223846793005 + 1442695040888963407
    return (state >> 11) * 2.0 ^ -53
  end
end

-- likelihood_ref.py's scores(): mostly small, some exact zeros, bursts
-- near 1 for five steps from every 1000th step + 700.
local function lik_scores(n, seed)
  local g, out = lcg(seed), {}
  for i = 1, n do
    local u, v = g(), g()
    local r = i % 1000
    if r >= 700 and r <= 704 then
      out[i] = 0.95 + 0.05 * u
    elseif u < 0.1 then
      out[i] = 0.0
    else
      out[i] = v * v * v * 0.4
    end
  end
  return out
end

-- psquare_ref.py's stream().
local function psq_stream(kind, seed, n)
  local g, out = lcg(seed), {}
  for i = 1, n do
    local u = g()
    if kind == "normal" then
      local v = g()
      out[i] = math.sqrt(-2.0 * math.log(1.0 - u)) * math.cos(2.0 * math.pi * v)
    elseif kind == "exponential" then
      out[i] = -math.log(1.0 - u)
    else
      out[i] = u
    end
  end
  return out
end

local function isnan(v) return v ~= v end

-- Bit-identical outputs (NaN matching NaN).
local function same(a, b, what)
  t.eq(#a, #b, what .. ": length")
  for i = 1, #a do
    if not (a[i] == b[i] or (isnan(a[i]) and isnan(b[i]))) then
      error(string.format("%s: differ at %d: %.17g vs %.17g", what, i, a[i], b[i]), 2)
    end
  end
end

local function close(got, want, tol, what)
  if not (math.abs(got - want) <= tol) then
    error(string.format("%s: expected %.17g, got %.17g (tolerance %g)", what, want, got, tol), 2)
  end
end

local function slice(x, i, j)
  local out = {}
  for k = i, j do out[#out + 1] = x[k] end
  return out
end

local function totable(s)
  local out = {}
  for i = 1, #s do out[i] = s[i] end
  return out
end

-- ---- the saved-state checksum, to forge states that pass it ----------

-- mw_blob_checksum (src/detect/blob.c), in Lua integers.
local checksum = t.checksum

-- s with the 8 bytes at pos (1-based) replaced by `bytes`, and sealed with
-- a correct checksum.
local function forge(s, pos, bytes)
  local body = s:sub(1, -9)
  body = body:sub(1, pos - 1) .. bytes .. body:sub(pos + #bytes)
  return body .. string.pack("<i8", checksum(body))
end

-- Where the kind's own state starts in a saved detector (the container of
-- src/detect/detect.c: magic, version, name, parameters, count).
local function state_start(d)
  local s = d:save()
  local name_len = s:byte(6)
  local n_params = s:byte(7 + name_len)
  return 4 + 1 + 1 + name_len + 1 + 8 * n_params + 8 + 1
end

-- ---- the protocol every kind follows -----------------------------------

-- make() returns a fresh thresholder; x is a list of finite inputs.
local function check_protocol(label, make, x)
  local n = #x
  local series = mw.series(x)
  local ref = make()
  local looped = {}
  for i = 1, n do looped[i] = ref:update(x[i]) end
  local batch = make()
  local ran = totable(batch:run(series))
  same(looped, ran, label .. ": update loop == run")
  t.eq(batch:count(), n, label .. ": count")
  for i = 1, n do
    assert(ran[i] == ran[i] and ran[i] >= 0 and ran[i] <= 1,
           label .. ": output in [0, 1] at " .. i .. ": " .. tostring(ran[i]))
  end

  -- score is what update would return, and changes nothing.
  local scored = make()
  for i = 1, n do
    local s = scored:score(x[i])
    local u = scored:update(x[i])
    if s ~= u then error(string.format("%s: score %.17g ~= update %.17g at %d", label, s, u, i)) end
  end

  -- Save in the middle, load, continue: as the uninterrupted run.
  local half = n // 2
  local d = make()
  d:run(mw.series(slice(x, 1, half)))
  local saved = d:save()
  local loaded = mw.thresh.load(saved)
  t.eq(loaded.name, d.name, label .. ": loaded name")
  t.eq(loaded:count(), half, label .. ": loaded count")
  t.eq(loaded:save(), saved, label .. ": save(load(s)) == s")
  local rest = mw.series(slice(x, half + 1, n))
  same(totable(loaded:run(rest)), slice(ran, half + 1, n), label .. ": loaded continues")
  same(totable(d:run(rest)), slice(ran, half + 1, n), label .. ": saver continues")
  local cloned = make()
  cloned:run(mw.series(slice(x, 1, half)))
  same(totable(cloned:clone():run(rest)), slice(ran, half + 1, n), label .. ": clone continues")

  -- Non-finite inputs give NaN and change nothing.
  local holes, expect = {}, {}
  local bad = {0 / 0, math.huge, -math.huge}
  for i = 1, n do
    if i % 97 == 0 then
      holes[#holes + 1] = bad[i % 3 + 1]
      expect[#expect + 1] = 0 / 0
    end
    holes[#holes + 1] = x[i]
    expect[#expect + 1] = ran[i]
  end
  local nan_d = make()
  same(totable(nan_d:run(mw.series(holes))), expect, label .. ": NaN skipped (run)")
  t.eq(nan_d:count(), n, label .. ": NaN not counted")
  local one = make()
  assert(isnan(one:update(0 / 0)) and isnan(one:score(0 / 0)), label .. ": NaN update")
  t.eq(one:count(), 0, label .. ": NaN update not counted")

  -- reset: as new, on the same memory.
  local bytes = batch:bytes()
  batch:reset()
  t.eq(batch:count(), 0, label .. ": count after reset")
  same(totable(batch:run(series)), ran, label .. ": run after reset")
  t.eq(batch:bytes(), bytes, label .. ": reset keeps the memory")

  -- A corrupt or truncated state is refused with a clear error.
  local mid = #saved // 2
  local flipped = saved:sub(1, mid - 1) .. string.char(saved:byte(mid) ~ 0x20) .. saved:sub(mid + 1)
  t.raises("bad detector state", mw.thresh.load, flipped)
  t.raises("checksum mismatch", mw.thresh.load, flipped)
  t.raises("bad detector state", mw.thresh.load, saved:sub(1, -2))
  return ran
end

-- ---- the module table --------------------------------------------------

local names = {}
for _, name in ipairs(mw.thresh.names) do names[name] = true end
for _, name in ipairs{"constant", "quantile", "likelihood", "calibrate", "rest"} do
  assert(names[name], "mw.thresh.names has " .. name)
  t.eq(type(mw.thresh[name]), "function", "mw.thresh." .. name)
  t.eq(mw.thresh.info(name).name, "thresh." .. name, "info by short name")
  t.eq(mw.thresh.info("thresh." .. name).name, "thresh." .. name, "info by full name")
  t.eq(mw.thresh.info(name).role, "threshold", "role in info")
  t.eq(mw.detect.info("thresh." .. name).name, "thresh." .. name, "mw.detect.info, full name")
  -- mw.detect.quantile is another kind (rolling quantile fences)
  assert(mw.detect[name] == nil or mw.detect.info(name).role == "detector",
         "no thresholder in mw.detect: " .. name)
end
t.raises("no thresholder 'zscore'", mw.thresh.info, "zscore")
t.raises("no thresholder 'nope'", mw.thresh.info, "nope")
t.eq(mw.thresh.info("quantile").params[1].name, "q", "info params")
t.eq(mw.thresh.info("quantile").params[1].default, 0.99, "info default")
do
  local q = mw.thresh.quantile{q = 0.9}
  t.eq(q.name, "thresh.quantile", "the full name")
  t.eq(q.role, "threshold", "role")
  t.eq(q.params.q, 0.9, "params field")
  t.eq(tostring(q), "thresh.quantile{q=0.9, min_periods=100} (0 values learned)", "tostring")
  t.eq(tostring(mw.thresh.calibrate{method = "minmax"}),
       'thresh.calibrate{method="minmax", window=1000, min_periods=30} (0 values learned)',
       "tostring with a choice")
end

-- ---- constant ----------------------------------------------------------

do
  local g, x = lcg(5), {}
  for i = 1, 3000 do x[i] = (g() - 0.5) * 8 end
  x[100], x[101], x[102] = 2.5, 2.5 - 2 ^ -50, 2.5 + 2 ^ -50
  local out = check_protocol("constant", function() return mw.thresh.constant{threshold = 2.5} end, x)
  for i = 1, #x do
    t.eq(out[i], x[i] >= 2.5 and 1.0 or 0.0, "constant: naive x >= threshold at " .. i)
  end
  t.eq(out[100], 1.0, "constant: at the threshold")
  t.eq(out[101], 0.0, "constant: just below")
  local c = mw.thresh.constant{}
  t.eq(c.params.threshold, 3, "constant: default threshold 3")
  t.eq(c:update(3), 1.0, "constant: default threshold, at it")
  t.eq(c:update(-1e308), 0.0, "constant: far below")
  t.eq(c:count(), 2, "constant: learns a count")
  t.eq(mw.thresh.constant{threshold = -1e300}:update(-1e299), 1.0, "constant: negative threshold")
end

-- ---- quantile: P-square against numpy.quantile ---------------------------

-- Numbers from /usr/bin/python3 tests/tools/psquare_ref.py (numpy 1.24).
local psquare_ref = {  -- numpy.quantile of each stream
  {kind = "normal", seed = 11, [0.5] = 0.0030528662125330324, [0.9] = 1.2813400965876551, [0.99] = 2.3277581727833345},
  {kind = "exponential", seed = 12, [0.5] = 0.69103373043563354, [0.9] = 2.2996308627335624, [0.99] = 4.5552116160246792},
  {kind = "uniform", seed = 13, [0.5] = 0.49932801721350689, [0.9] = 0.90025370318558928, [0.99] = 0.98989641126667849},
}

-- The estimate a quantile thresholder holds: it outputs 1 exactly for
-- scores above it, so bisection on score (which learns nothing) finds it
-- to the last bit.
local function psq_estimate(d, lo, hi)
  assert(d:score(lo) == 0 and d:score(hi) == 1, "bracket")
  while true do
    local mid = lo + (hi - lo) / 2
    if mid == lo or mid == hi then return lo end
    if d:score(mid) == 0 then lo = mid else hi = mid end
  end
end

-- Measured (10^5 values): |estimate - numpy| / std at most 0.0099
-- (exponential, q = 0.99); rank error |F(estimate) - q| at most 0.00038;
-- share of 1 outputs within 0.0016 of 1 - q.
do
  local worst_value, worst_rank = 0, 0
  for _, ref in ipairs(psquare_ref) do
    local x = psq_stream(ref.kind, ref.seed, 100000)
    local s = mw.series(x)
    local sd = s:std()
    for _, p in ipairs{0.5, 0.9, 0.99} do
      local label = string.format("P-square %s q=%g", ref.kind, p)
      -- The stream is the one numpy saw (same quantile to rounding).
      close(s:quantile(p), ref[p], 1e-12 * (1 + math.abs(ref[p])), label .. ": stream")
      local d = mw.thresh.quantile{q = p, min_periods = 5}
      local out = d:run(s)
      local est = psq_estimate(d, s:min() - 1, s:max() + 1)
      local below = 0
      for i = 1, #x do if x[i] < est then below = below + 1 end end
      local value_err = math.abs(est - ref[p]) / sd
      local rank_err = math.abs(below / #x - p)
      worst_value = math.max(worst_value, value_err)
      worst_rank = math.max(worst_rank, rank_err)
      assert(value_err < 0.02, label .. ": |estimate - numpy| / std = " .. value_err)
      assert(rank_err < 0.001, label .. ": rank error " .. rank_err)
      assert(math.abs(out:mean() - (1 - p)) < 0.003, label .. ": share of ones " .. out:mean())
    end
  end
  assert(worst_value > 0 and worst_rank > 0, "the errors were measured")
end

-- The protocol: each decision compares the score with the estimate of
-- the scores before it; 0 during warm-up.
do
  local x = psq_stream("normal", 21, 2000)
  local d = mw.thresh.quantile{q = 0.9, min_periods = 50}
  for i = 1, #x do
    if i <= 50 then
      t.eq(d:update(x[i]), 0.0, "quantile: warm-up at " .. i)
    else
      local est = psq_estimate(d, -100, 100)
      t.eq(d:update(x[i]), x[i] > est and 1.0 or 0.0, "quantile: score before learning at " .. i)
    end
  end
  -- The first five values are the markers, sorted: the median of five.
  local q5 = mw.thresh.quantile{q = 0.5, min_periods = 5}
  for _, v in ipairs{5, 1, 4, 2, 3} do q5:update(v) end
  t.eq(psq_estimate(q5, -10, 10), 3.0, "quantile: median of the first five")
  check_protocol("quantile", function() return mw.thresh.quantile{q = 0.95, min_periods = 20} end, x)
  check_protocol("quantile median", function() return mw.thresh.quantile{q = 0.5, min_periods = 5} end,
                 slice(x, 1, 300))
end

-- ---- likelihood: against NuPIC's algorithm --------------------------------

-- Numbers from /usr/bin/python3 tests/tools/likelihood_ref.py (numpy
-- 1.24), an independent re-implementation of NuPIC's AnomalyLikelihood
-- fed the inputs of lik_scores(n, seed).
local likelihood_ref = {
  {name = "defaults", params = {}, n = 10000, seed = 1,
   sum = 6929.0076604930764, weighted = 331944.38042765961, at = {
    [1] = 0.5, [101] = 0.5, [201] = 0.5, [301] = 0.5, [401] = 0.97779483511698106,
    [501] = 0.62295311719361879, [601] = 0.91178295183601388,
    [700] = 0.99979531030684976, [701] = 0.99999999999330713, [702] = 0.999,
    [703] = 0.999, [704] = 0.999, [705] = 0.999, [706] = 0.999, [707] = 0.999,
    [708] = 0.999, [709] = 0.999, [710] = 0.999, [711] = 0.999, [712] = 0.999,
    [801] = 0.75761736143652603, [901] = 0.71193462244931549,
    [1001] = 0.67316143522285876, [1101] = 0.56834436475771044,
    [1201] = 0.65751374092213322, [1301] = 0.9056648098567307,
    [1401] = 0.92191407428034755, [1501] = 0.58900379785233636,
    [1601] = 0.91228524592031257, [1701] = 0.99997365281877248,
    [1702] = 0.99999999948352114, [1703] = 0.999, [1704] = 0.999, [1705] = 0.999,
    [1706] = 0.999, [1707] = 0.999, [1708] = 0.999, [1709] = 0.999, [1710] = 0.999,
    [1711] = 0.999, [1712] = 0.9999359254368082, [1801] = 0.50791454649146839,
    [1901] = 0.59223479862520012, [2001] = 0.90196762889531079,
    [2101] = 0.56375365409146605, [2201] = 0.72326440355924915,
    [2301] = 0.56508850802103794, [2401] = 0.65523190338115633,
    [2501] = 0.71966893680296362, [2601] = 0.60689016355727388,
    [2701] = 0.99935297934721079, [2702] = 0.99999987066322782, [2703] = 0.999,
    [2704] = 0.999, [2705] = 0.999, [2706] = 0.999, [2707] = 0.999, [2708] = 0.999,
    [2709] = 0.999, [2710] = 0.999, [2711] = 0.999, [2712] = 0.9999173810956582,
    [2801] = 0.71194791713173233, [2901] = 0.60703202237941256,
    [3001] = 0.55043916727465947, [3101] = 0.88844777878399384,
    [3201] = 0.75579091744305593, [3301] = 0.67199776126681543,
    [3401] = 0.76164476880290333, [3501] = 0.73320875269193275,
    [3601] = 0.53117230268831861, [3701] = 0.99860556291241398,
    [3702] = 0.99999939399839388, [3703] = 0.999, [3704] = 0.999, [3705] = 0.999,
    [3706] = 0.999, [3707] = 0.999, [3708] = 0.999, [3709] = 0.999, [3710] = 0.999,
    [3711] = 0.999, [3712] = 0.99983441855314303, [3801] = 0.71739248577413428,
    [3901] = 0.57044502324882118, [4001] = 0.66529161637176371,
    [4101] = 0.51357000847084966, [4201] = 0.94855596689689303,
    [4301] = 0.76412886928403001, [4401] = 0.84948331077217853,
    [4501] = 0.88875790403511234, [4601] = 0.50005127686629047,
    [4701] = 0.99987152298945547, [4702] = 0.99999998778367705, [4703] = 0.999,
    [4704] = 0.999, [4705] = 0.999, [4706] = 0.999, [4707] = 0.999, [4708] = 0.999,
    [4709] = 0.999, [4710] = 0.999, [4711] = 0.999, [4712] = 0.99996749295965259,
    [4801] = 0.84904438450338415, [4901] = 0.63862218465108689,
    [5001] = 0.91050067910301491, [5101] = 0.59594463621817328,
    [5201] = 0.84147436639069872, [5301] = 0.84921187129364939,
    [5401] = 0.91630605705568613, [5501] = 0.78897885620478503,
    [5601] = 0.77959784468960247, [5701] = 0.99903617194217786,
    [5702] = 0.99999817920281286, [5703] = 0.999, [5704] = 0.999, [5705] = 0.999,
    [5706] = 0.999, [5707] = 0.999, [5708] = 0.999, [5709] = 0.999, [5710] = 0.999,
    [5711] = 0.999, [5712] = 0.99976026889352265, [5801] = 0.71257784711628325,
    [5901] = 0.52251739856543178, [6001] = 0.53293360314449212,
    [6101] = 0.52363681954824193, [6201] = 0.54520645036622595,
    [6301] = 0.84658459309921086, [6401] = 0.56147702718759662,
    [6501] = 0.61470990565102879, [6601] = 0.59877504608876642,
    [6701] = 0.99754202648109436, [6702] = 0.9999951348039845, [6703] = 0.999,
    [6704] = 0.999, [6705] = 0.999, [6706] = 0.999, [6707] = 0.999, [6708] = 0.999,
    [6709] = 0.999, [6710] = 0.999, [6711] = 0.999, [6712] = 0.9997728228987276,
    [6801] = 0.88245923008586624, [6901] = 0.65320765495836886,
    [7001] = 0.62266767785926591, [7101] = 0.54933355488367086,
    [7201] = 0.76945193228874287, [7301] = 0.59509783422614571,
    [7401] = 0.63164357200446575, [7501] = 0.55804752420497206,
    [7601] = 0.7649248678078906, [7700] = 0.99931919556201465,
    [7701] = 0.99999944759316739, [7702] = 0.999, [7703] = 0.999, [7704] = 0.999,
    [7705] = 0.999, [7706] = 0.999, [7707] = 0.999, [7708] = 0.999, [7709] = 0.999,
    [7710] = 0.999, [7711] = 0.999, [7801] = 0.50125939278368148,
    [7901] = 0.60935869152827538, [8001] = 0.79264301723817354,
    [8101] = 0.80838939760272044, [8201] = 0.63294496081379759,
    [8301] = 0.67842837426456315, [8401] = 0.7352951266276333,
    [8501] = 0.56891537802700165, [8601] = 0.67851615016596722,
    [8701] = 0.99461215487114019, [8702] = 0.99999149805404308, [8703] = 0.999,
    [8704] = 0.999, [8705] = 0.999, [8706] = 0.999, [8707] = 0.999, [8708] = 0.999,
    [8709] = 0.999, [8710] = 0.999, [8711] = 0.999, [8712] = 0.99996895587443435,
    [8801] = 0.50317602258089633, [8901] = 0.50496535534496512,
    [9001] = 0.77092261330684275, [9101] = 0.75564060313801784,
    [9201] = 0.61662985363971634, [9301] = 0.61759637487680141,
    [9401] = 0.50310487041959073, [9501] = 0.53447631426584974,
    [9601] = 0.901614695749408, [9701] = 0.99983911626273714,
    [9702] = 0.99999970249275705, [9703] = 0.999, [9704] = 0.999, [9705] = 0.999,
    [9706] = 0.999, [9707] = 0.999, [9708] = 0.999, [9709] = 0.999, [9710] = 0.999,
    [9711] = 0.999, [9801] = 0.74224422677101276, [9901] = 0.68297844179021849,
  }},
  {name = "small", params = {averaging_window = 7, estimation_samples = 30, historic_window = 400, learning_period = 50, reestimation_period = 25, output = "log"}, n = 3000, seed = 2,
   sum = 202.16909216832383, weighted = 9632.8316180729307, at = {
    [1] = 0.030102999665883399, [101] = 0.087642496581475118,
    [201] = 0.14073111797324489, [301] = 0.031701506986026112,
    [401] = 0.10703877671723676, [501] = 0.098984295304981817,
    [601] = 0.044248226567317368, [701] = 0.73399858831415787,
    [702] = 0.29999999673506555, [703] = 0.29999999673506555,
    [704] = 0.29999999673506555, [705] = 0.29999999673506555,
    [706] = 0.29999999673506555, [707] = 0.29999999673506555,
    [708] = 0.29999999673506555, [709] = 0.29999999673506555,
    [710] = 0.29999999673506555, [711] = 0.33180027973572696,
    [801] = 0.03292159298188721, [901] = 0.049305889537044699,
    [1001] = 0.040011396335951625, [1101] = 0.033243191726115368,
    [1201] = 0.045465635770982504, [1301] = 0.092564699810222056,
    [1401] = 0.035652787400921371, [1501] = 0.044459657027493715,
    [1601] = 0.062780983036944113, [1701] = 0.63756012488462743,
    [1702] = 0.29999999673506555, [1703] = 0.29999999673506555,
    [1704] = 0.29999999673506555, [1705] = 0.29999999673506555,
    [1706] = 0.29999999673506555, [1707] = 0.29999999673506555,
    [1708] = 0.29999999673506555, [1709] = 0.29999999673506555,
    [1801] = 0.047357069148988781, [1901] = 0.033525656726548052,
    [2001] = 0.039765379393884172, [2101] = 0.033422873853554393,
    [2201] = 0.091472152650032931, [2301] = 0.098353238373473872,
    [2401] = 0.036880084197533261, [2436] = 0.35040529521943142,
    [2439] = 0.48442286977746785, [2440] = 0.49260213171369932,
    [2441] = 0.42300563050523438, [2442] = 0.39427926979484629,
    [2443] = 0.32432872796746087, [2444] = 0.35709491400688315,
    [2456] = 0.3185822728112479, [2457] = 0.37854499941441022,
    [2501] = 0.11764408888102301, [2601] = 0.077322023164633283,
    [2673] = 0.36220273176313689, [2701] = 0.9012593761064891,
    [2702] = 0.29999999673506555, [2703] = 0.29999999673506555,
    [2704] = 0.29999999673506555, [2705] = 0.29999999673506555,
    [2706] = 0.29999999673506555, [2707] = 0.29999999673506555,
    [2708] = 0.29999999673506555, [2709] = 0.29999999673506555,
    [2801] = 0.043079397146479556, [2901] = 0.060568182594735336,
  }},
  {name = "tiny_history", params = {averaging_window = 10, estimation_samples = 3, historic_window = 8, learning_period = 5, reestimation_period = 3}, n = 1500, seed = 3,
   sum = 1150.4138185393288, weighted = 54173.051886597692, at = {
    [1] = 0.5, [14] = 0.99965941831371596, [15] = 0.99996430631610378,
    [64] = 0.99982726613210238, [65] = 0.99979032477209573, [66] = 0.999717667016497,
    [101] = 0.87982305801906413, [201] = 0.70129999689207079,
    [264] = 0.99998090841429188, [301] = 0.74980968817696692,
    [401] = 0.91593583772659404, [405] = 0.99922639158944826,
    [432] = 0.99958322457362492, [478] = 0.99932432774316993,
    [501] = 0.94927171176481773, [601] = 0.69020851534365735,
    [636] = 0.99959820994606197, [642] = 0.99964227420521756,
    [675] = 0.99971151048766371, [700] = 0.99999998247401922, [701] = 0.999,
    [702] = 0.999, [720] = 0.9989089449749059, [801] = 0.93752147224075411,
    [843] = 0.99998328250685509, [901] = 0.74151293047552425,
    [987] = 0.99985946495394618, [1001] = 0.93891895769662381,
    [1076] = 0.9998096575408727, [1077] = 0.99978322712746637,
    [1089] = 0.99989991160129599, [1101] = 0.59780313356553616,
    [1181] = 0.99983787933911772, [1182] = 0.99998904593327564,
    [1201] = 0.72249998146772054, [1301] = 0.64768710016620856,
    [1401] = 0.95941500906650501, [1409] = 0.99991688032247217,
    [1410] = 0.99939587857163548, [1497] = 0.99994603577597829,
  }},
  {name = "null_fit", params = {averaging_window = 3, estimation_samples = 0, historic_window = 100, learning_period = 20, reestimation_period = 7}, n = 1200, seed = 4,
   sum = 899.58360269050991, weighted = 42257.369406985614, at = {
    [1] = 0.5, [23] = 0.99992643973547157, [28] = 0.99999985093247101,
    [79] = 0.99909172459158813, [80] = 0.99913911908762376,
    [101] = 0.94160814978676266, [164] = 0.99934966348148446,
    [201] = 0.83367042165818628, [271] = 0.99937043354121469,
    [272] = 0.99939576000453023, [301] = 0.81489539049403303,
    [401] = 0.87542818637687181, [501] = 0.52669520711528495,
    [601] = 0.86745674177144916, [700] = 0.99999999466632494, [701] = 0.999,
    [702] = 0.999, [703] = 0.999, [704] = 0.999, [705] = 0.999, [706] = 0.999,
    [801] = 0.68062905474470226, [901] = 0.63063619205329702,
    [1001] = 0.58200903363345569, [1098] = 0.99984918087574648,
    [1101] = 0.51277431456882927, [1127] = 0.9999994629669603,
    [1128] = 0.99987054899568406,
  }},
}

do
  for _, case in ipairs(likelihood_ref) do
    local label = "likelihood " .. case.name
    local d = mw.thresh.likelihood(case.params)
    local out = d:run(mw.series(lik_scores(case.n, case.seed)))
    local sum, weighted, checked = 0, 0, 0
    for i = 1, case.n do
      sum = sum + out[i]
      weighted = weighted + out[i] * (i % 97)
    end
    for i, want in pairs(case.at) do
      close(out[i], want, 1e-9, label .. " at " .. i)
      checked = checked + 1
    end
    assert(checked > 10, label .. ": points checked")
    close(sum, case.sum, 1e-9 * case.n, label .. ": sum")
    close(weighted, case.weighted, 1e-9 * case.n * 97, label .. ": weighted sum")
  end
  -- The probation gives 0.5 (0.0301 on the log scale).
  local d = mw.thresh.likelihood{}
  t.eq(d:update(1.0), 0.5, "likelihood: probation")
  close(mw.thresh.likelihood{output = "log"}:update(1.0), math.log(0.5000000001) / -23.02585084720009,
        1e-15, "likelihood: probation, log")
  t.eq(d:bytes() > 8 * (8640 + 10), true, "likelihood: the history's memory is charged")

  local x = lik_scores(3000, 9)
  check_protocol("likelihood", function() return mw.thresh.likelihood{} end, x)
  check_protocol("likelihood small", function()
    return mw.thresh.likelihood{learning_period = 30, estimation_samples = 20, historic_window = 200,
                                reestimation_period = 13, averaging_window = 5, output = "log"}
  end, x)
  -- A history longer than the data.
  local long = mw.thresh.likelihood{historic_window = 100000}
  local out = long:run(mw.series(x))
  for i = 1, #x do assert(out[i] >= 0.5 and out[i] <= 1, "likelihood: long history") end
  -- Scores far outside [0, 1] stay finite.
  local wild = {}
  for i = 1, 2000 do wild[i] = (i % 7 == 0) and 1e300 or ((i % 5 == 0) and -1e300 or i) end
  check_protocol("likelihood wild", function()
    return mw.thresh.likelihood{learning_period = 10, estimation_samples = 10, historic_window = 300}
  end, wild)
end

-- ---- calibrate: against naive Lua ------------------------------------------

-- erf by its everywhere-positive series, erf(x) = 2/sqrt(pi) exp(-x^2)
-- sum 2^k x^(2k+1) / (1*3*...*(2k+1)): no cancellation, ~1e-15.
local function erf(x)
  if x < 0 then return -erf(-x) end
  if x > 6 then return 1.0 end
  local term, sum, k = x, x, 0
  while term > 1e-17 * sum do
    k = k + 1
    term = term * 2 * x * x / (2 * k + 1)
    sum = sum + term
  end
  return 2 / math.sqrt(math.pi) * math.exp(-x * x) * sum
end

local function naive_calibrate(method, window, min_periods, x)
  local out = {}
  for i = 1, #x do
    local first = math.max(1, i - window)
    local n = i - first
    if n < min_periods then
      out[i] = 0.0
    elseif method == "ecdf" then
      local below, ties = 0, 0
      for k = first, i - 1 do
        if x[k] < x[i] then below = below + 1 elseif x[k] == x[i] then ties = ties + 1 end
      end
      out[i] = (below + 0.5 * ties) / n
    elseif method == "minmax" then
      local lo, hi = math.huge, -math.huge
      for k = first, i - 1 do lo = math.min(lo, x[k]); hi = math.max(hi, x[k]) end
      if hi > lo then
        out[i] = math.min(1.0, math.max(0.0, (x[i] - lo) / (hi - lo)))
      else
        out[i] = x[i] > hi and 1.0 or (x[i] < lo and 0.0 or 0.5)
      end
    else
      local sum = 0
      for k = first, i - 1 do sum = sum + x[k] end
      local mean, m2 = sum / n, 0
      for k = first, i - 1 do m2 = m2 + (x[k] - mean) ^ 2 end
      local std = n > 1 and math.sqrt(m2 / (n - 1)) or 0
      local floor = math.max(1e-9 * math.abs(mean), 1e-12)
      if std > floor then
        out[i] = 0.5 * (1 + erf((x[i] - mean) / std / math.sqrt(2)))
      else
        out[i] = x[i] > mean and 1.0 or (x[i] < mean and 0.0 or 0.5)
      end
    end
  end
  return out
end

do
  local s = mw.synth{n = 3000, period = 50, noise = 0.3, anomalies = 4, seed = 5}
  local x, ties = totable(s), {}
  for i = 1, #x do ties[i] = math.floor(x[i] * 4) / 4 end   -- many equal scores
  for _, method in ipairs{"ecdf", "minmax", "gaussian"} do
    for _, data in ipairs{{"ties", ties}, {"smooth", x}} do
      for _, cfg in ipairs{{window = 50, min_periods = 10}, {window = 1, min_periods = 1},
                           {window = 5000, min_periods = 3}} do
        local label = string.format("calibrate %s %s window=%d", method, data[1], cfg.window)
        local make = function()
          return mw.thresh.calibrate{method = method, window = cfg.window, min_periods = cfg.min_periods}
        end
        local out = check_protocol(label, make, data[2])
        local want = naive_calibrate(method, cfg.window, cfg.min_periods, data[2])
        for i = 1, #want do
          if method == "gaussian" then
            close(out[i], want[i], 1e-10, label .. " at " .. i)
          elseif out[i] ~= want[i] then
            error(string.format("%s at %d: %.17g, naive %.17g", label, i, out[i], want[i]))
          end
        end
      end
    end
  end
  t.eq(mw.thresh.calibrate{}.params.method, "ecdf", "calibrate: default method")
  -- Equal scores: ties count half, the floor keeps gaussian finite.
  for _, method in ipairs{"ecdf", "minmax", "gaussian"} do
    local d = mw.thresh.calibrate{method = method, window = 10, min_periods = 2}
    d:run(mw.series.full(20, 7.0))
    t.eq(d:score(7.0), 0.5, method .. ": a score equal to a constant window")
    t.eq(d:score(7.5), 1.0, method .. ": above a constant window")
    t.eq(d:score(6.5), 0.0, method .. ": below a constant window")
  end
end

-- ---- constant input, for every kind ------------------------------------------

do
  local kinds = {
    function() return mw.thresh.constant{} end,
    function() return mw.thresh.quantile{min_periods = 5} end,
    function() return mw.thresh.likelihood{learning_period = 10, estimation_samples = 10,
                                           historic_window = 50, reestimation_period = 7} end,
    function() return mw.thresh.likelihood{output = "log"} end,
    function() return mw.thresh.calibrate{} end,
    function() return mw.thresh.calibrate{method = "gaussian", min_periods = 1} end,
    function() return mw.thresh.calibrate{method = "minmax", min_periods = 1} end,
  }
  for _, v in ipairs{0.0, 3.25, -1e300, 1e300} do
    for k, make in ipairs(kinds) do
      local x = {}
      for i = 1, 1000 do x[i] = v end
      check_protocol(string.format("constant input %g, kind %d", v, k), make, x)
    end
  end
end

-- ---- parameter errors ------------------------------------------------------

t.raises("unknown parameter 'bogus'; valid parameters: threshold", mw.thresh.constant, {bogus = 1})
t.raises("threshold must be a number (got string)", mw.thresh.constant, {threshold = "1"})
t.raises("threshold must be a number in", mw.thresh.constant, {threshold = math.huge})
t.raises("threshold must be a number in", mw.thresh.constant, {threshold = 0 / 0})
t.raises("q must be a number in (0, 1], got 0", mw.thresh.quantile, {q = 0})
t.raises("q must be a number in (0, 1], got 1.5", mw.thresh.quantile, {q = 1.5})
t.raises("q must be below 1 (got 1)", mw.thresh.quantile, {q = 1})
t.raises("min_periods must be an integer in [5, 1000000000], got 4", mw.thresh.quantile, {min_periods = 4})
t.raises("min_periods must be an integer", mw.thresh.quantile, {min_periods = 5.5})
t.raises("estimation_samples (100) must not exceed historic_window (50)", mw.thresh.likelihood,
         {historic_window = 50})
t.raises("learning_period + estimation_samples must be at least 1", mw.thresh.likelihood,
         {learning_period = 0, estimation_samples = 0})
t.raises("output must be one of 'likelihood', 'log' (got 'linear')", mw.thresh.likelihood,
         {output = "linear"})
t.raises("averaging_window must be an integer in [1,", mw.thresh.likelihood, {averaging_window = 0})
t.raises("reestimation_period must be an integer in [1,", mw.thresh.likelihood, {reestimation_period = 0})
t.raises("historic_window must be an integer in [1,", mw.thresh.likelihood, {historic_window = -1})
t.raises("learning_period must be an integer in [0,", mw.thresh.likelihood, {learning_period = 0.5})
t.raises("method must be one of 'ecdf', 'gaussian', 'minmax' (got 'rank')", mw.thresh.calibrate,
         {method = "rank"})
t.raises("method must be one of 'ecdf', 'gaussian', 'minmax'", mw.thresh.calibrate, {method = 1})
t.raises("min_periods (20) must not exceed window (10)", mw.thresh.calibrate, {window = 10, min_periods = 20})
t.raises("window must be an integer in [1,", mw.thresh.calibrate, {window = 0})
t.raises("bad argument #1", mw.thresh.calibrate, {window = 0})

-- ---- rest: against naive Lua -------------------------------------------------

do
  -- The rule, written the slow way: x passes when it beats every one of
  -- the last `period` scores learned before it.
  local function naive_rest(period, x)
    local out = {}
    for i = 1, #x do
      local m = -math.huge
      for j = math.max(1, i - period), i - 1 do m = math.max(m, x[j]) end
      out[i] = x[i] > m and x[i] or 0
    end
    return out
  end
  local g = lcg(11)
  local uniform, bursty, ties = {}, {}, {}
  for i = 1, 3000 do
    uniform[i] = g()
    -- rising bursts (the maximum leaves the window in the middle of one)
    bursty[i] = (i % 97 < 12) and 0.5 + 0.04 * (i % 97) or 0.3 * g()
    ties[i] = math.floor(g() * 4) / 4
  end
  for _, period in ipairs{1, 2, 7, 30, 500} do
    for name, data in pairs{uniform = uniform, bursty = bursty, ties = ties} do
      local label = string.format("rest %s period=%d", name, period)
      local out = check_protocol(label, function() return mw.thresh.rest{period = period} end, data)
      same(out, naive_rest(period, data), label .. ": == naive")
    end
  end
  t.eq(mw.thresh.rest{}.params.period, 30, "rest: default period")
  local r = mw.thresh.rest{period = 3}
  local got = totable(r:run(mw.series{0.2, 0.9, 0.5, 0.95, 0.1, 0.1, 0.1, 0.1, 0.3}))
  same(got, {0.2, 0.9, 0, 0.95, 0, 0, 0, 0, 0.3}, "rest: worked example")
  t.eq(r:score(0.2), 0, "rest: score below the window's maximum")
  t.eq(r:score(0.31), 0.31, "rest: score above it")
  -- NaN is skipped: it neither passes nor resets the window.
  local n = mw.thresh.rest{period = 2}
  local o = totable(n:run(mw.series{0.5, 0 / 0, 0.4, 0.6}))
  assert(isnan(o[2]), "rest: NaN in, NaN out")
  same({o[1], o[3], o[4]}, {0.5, 0, 0.6}, "rest: NaN skipped")
  t.eq(n:count(), 3, "rest: NaN not learned")
  t.raises("period must be an integer in [1,", mw.thresh.rest, {period = 0})
end

-- ---- forged states: every count and value is checked on load -----------------

do
  -- quantile: count, then 5 heights, then 5 positions.
  local q = mw.thresh.quantile{q = 0.9, min_periods = 5}
  q:run(mw.series(psq_stream("uniform", 3, 100)))
  local s, at = q:save(), state_start(q)
  t.eq(mw.thresh.load(forge(s, at, string.pack("<i8", 100))):count(), 100, "forge: untouched state loads")
  t.raises("marker positions do not match the count", mw.thresh.load, forge(s, at, string.pack("<i8", 99)))
  t.raises("marker positions do not match the count", mw.thresh.load,
           forge(s, at + 8 + 40 + 32, string.pack("<d", 101)))
  t.raises("marker positions out of order", mw.thresh.load, forge(s, at + 8 + 40 + 8, string.pack("<d", 95)))
  t.raises("marker positions out of order", mw.thresh.load, forge(s, at + 8 + 40 + 8, string.pack("<d", 2.5)))
  t.raises("marker heights out of order", mw.thresh.load, forge(s, at + 8 + 16, string.pack("<d", 2.0)))
  t.raises("marker height", mw.thresh.load, forge(s, at + 8, string.pack("<d", 0 / 0)))
  t.raises("count out of range", mw.thresh.load, forge(s, at, string.pack("<i8", -1)))

  -- calibrate: the window (count, head, age, mean, m2, values).
  local c = mw.thresh.calibrate{window = 20, min_periods = 5}
  c:run(mw.series(psq_stream("uniform", 4, 50)))
  s, at = c:save(), state_start(c)
  t.raises("window count out of range", mw.thresh.load, forge(s, at, string.pack("<i8", 21)))
  t.raises("window position out of range", mw.thresh.load, forge(s, at + 8, string.pack("<i8", 20)))
  t.raises("is not finite", mw.thresh.load, forge(s, at + 40 + 8 * 3, string.pack("<d", math.huge)))

  -- likelihood: iteration, history, averaging window, mean, stdev, total,
  -- last raw likelihood.
  local l = mw.thresh.likelihood{learning_period = 10, estimation_samples = 10, historic_window = 50}
  l:run(mw.series(lik_scores(80, 1)))
  s, at = l:save(), state_start(l)
  t.raises("history of 50 scores after 40", mw.thresh.load, forge(s, at, string.pack("<i8", 40)))
  t.raises("history out of range", mw.thresh.load, forge(s, at + 8, string.pack("<i8", 51)))
  t.raises("history value out of range", mw.thresh.load, forge(s, at + 16, string.pack("<d", 1e200)))
  local body_end = #s - 8
  t.raises("no fitted distribution", mw.thresh.load, forge(s, body_end - 23, string.pack("<d", 0)))
  t.raises("stdev", mw.thresh.load, forge(s, body_end - 23, string.pack("<d", 0 / 0)))
  t.raises("unexpected bytes", mw.thresh.load,
           (function() local b = s:sub(1, -9) .. "x"; return b .. string.pack("<i8", checksum(b)) end)())
  -- rest: the count, then the window's scores, oldest first.
  local rr = mw.thresh.rest{period = 4}
  rr:run(mw.series{0.1, 0.2, 0.3, 0.4, 0.5, 0.6})
  s, at = rr:save(), state_start(rr)
  t.eq(mw.thresh.load(forge(s, at, string.pack("<i8", 6))):count(), 6, "forge rest: untouched state loads")
  t.raises("score", mw.thresh.load, forge(s, at + 8, string.pack("<d", 0 / 0)))
  t.raises("unexpected bytes", mw.thresh.load, forge(s, at, string.pack("<i8", 2)))
  -- a forged maximum is not trusted: load recomputes it from the window
  local lowered = mw.thresh.load(forge(s, at + 8 * 4, string.pack("<d", 0.05)))
  t.eq(lowered:score(0.55), 0.55, "forge rest: maximum recomputed on load")
end

-- ---- composition with detectors -------------------------------------------------

do
  local s = mw.synth{n = 12000, period = 100, noise = 0.5, anomalies = 8, seed = 3}
  local x = totable(s)

  -- wrap: a chain of copies of the detector then the thresholder, the
  -- same as feeding the detector's scores in by hand.
  local z, lik = mw.detect.zscore{window = 500}, mw.thresh.likelihood{}
  local wrapped = lik:wrap(z)
  t.eq(wrapped.name, "chain", "wrap makes a chain")
  local out = totable(wrapped:run(s))
  local by_hand = {}
  for i = 1, #x do by_hand[i] = lik:update(z:update(x[i])) end
  same(out, by_hand, "likelihood:wrap(zscore) == by hand")
  t.eq(z:count(), #x, "the original detector was fed by hand only")

  -- Three stages: detector, calibrator, threshold.
  local make3 = function()
    return mw.detect.chain(mw.detect.zscore{window = 300}, mw.thresh.calibrate{window = 400},
                           mw.thresh.constant{threshold = 0.995})
  end
  local stages = {mw.detect.zscore{window = 300}, mw.thresh.calibrate{window = 400},
                  mw.thresh.constant{threshold = 0.995}}
  local three = totable(make3():run(s))
  for i = 1, #x do
    local v = x[i]
    for _, st in ipairs(stages) do v = st:update(v) end
    t.eq(three[i], v, "three stages == by hand at " .. i)
  end
  assert(mw.series(three):sum() > 0, "the three-stage chain fires")
  assert(tostring(make3()):find("thresh.calibrate{", 1, true), "tostring of a chain names its stages")

  -- Chains follow the protocol too: update == run, save in the middle
  -- (mw.detect.load and mw.thresh.load read chains), NaN, reset, corrupt.
  local xs = slice(x, 1, 4000)
  check_protocol("chain zscore -> likelihood", function()
    return mw.thresh.likelihood{}:wrap(mw.detect.zscore{window = 500})
  end, xs)
  check_protocol("chain of three", make3, xs)
  check_protocol("chain ewma -> quantile", function()
    return mw.thresh.quantile{q = 0.98}:wrap(mw.detect.ewma{})
  end, xs)
  local half = mw.thresh.calibrate{method = "gaussian"}:wrap(mw.detect.zscore{})
  half:run(mw.series(slice(x, 1, 2000)))
  local again = mw.detect.load(half:save())
  same(totable(again:run(mw.series(slice(x, 2001, 4000)))), totable(half:run(mw.series(slice(x, 2001, 4000)))),
       "a chain loaded by mw.detect.load continues")

  -- A NaN into a chain: NaN out, no stage changes.
  local c = make3()
  local before = c:count()
  c:run(mw.series(slice(x, 1, 1000)))
  local snapshot = c:save()
  assert(isnan(c:update(0 / 0)), "chain: NaN gives NaN")
  t.eq(c:save(), snapshot, "chain: a NaN changes no stage")
  t.eq(c:count(), before + 1000, "chain: NaN not counted")
end

-- ---- detection on synthetic anomalies --------------------------------------------

-- The fraction of anomalies whose largest output inside the anomaly is
-- above the 99th percentile of the outputs outside all anomalies (for
-- 0/1 outputs: a 1 inside, with fewer than 1% of ones outside). Ten
-- seeds of mw.synth{n = 20000, period = 100, noise = 0.5}, 9 anomalies
-- each (3 spikes, 3 level shifts, 3 variance changes).
local function detection(make, kinds)
  local hits, total = 0, 0
  for seed = 1, 10 do
    local s, anomalies = mw.synth{n = 20000, period = 100, noise = 0.5, anomalies = 9, seed = seed}
    local out = make():run(s)
    local inside = {}
    for _, a in ipairs(anomalies) do
      for i = a.at, a.at + math.max(a.len, 1) - 1 do inside[i] = true end
    end
    local outside = {}
    for i = 1, #s do
      if not inside[i] then outside[#outside + 1] = out[i] end
    end
    local p99 = mw.series(outside):quantile(0.99)
    for _, a in ipairs(anomalies) do
      if kinds[a.kind] then
        local top = -math.huge
        for i = a.at, a.at + math.max(a.len, 1) - 1 do top = math.max(top, out[i]) end
        total = total + 1
        if top > p99 then hits = hits + 1 end
      end
    end
  end
  return hits / total
end

do
  local all = {spike = true, level = true, variance = true}
  local z = function() return mw.detect.zscore{window = 500} end
  -- Measured: ecdf 1.00, gaussian 1.00, minmax 1.00, quantile{q=0.995}
  -- 0.99, constant{threshold=4} 0.77 (level shifts of 4 noise sd rarely
  -- reach |z| = 4 against the seasonal spread).
  local rates = {
    {"calibrate ecdf", function() return mw.thresh.calibrate{}:wrap(z()) end, all, 0.95},
    {"calibrate gaussian", function() return mw.thresh.calibrate{method = "gaussian"}:wrap(z()) end, all, 0.95},
    {"calibrate minmax", function() return mw.thresh.calibrate{method = "minmax"}:wrap(z()) end, all, 0.95},
    {"quantile 0.995", function() return mw.thresh.quantile{q = 0.995}:wrap(z()) end, all, 0.93},
    {"constant 4", function() return mw.thresh.constant{threshold = 4}:wrap(z()) end, all, 0.7},
    -- The likelihood averages 10 scores, so a single spike is averaged
    -- away by design; on the sustained anomalies it measured 0.90 after
    -- zscore (all level shifts, 24 of 30 variance changes) and 1.00
    -- after ewma.
    {"likelihood after zscore", function() return mw.thresh.likelihood{}:wrap(z()) end,
     {level = true, variance = true}, 0.85},
    {"likelihood after ewma", function() return mw.thresh.likelihood{}:wrap(mw.detect.ewma{}) end,
     {level = true, variance = true}, 0.95},
  }
  for _, r in ipairs(rates) do
    local rate = detection(r[2], r[3])
    print(string.format("detect_thresh: detection rate %-24s %.2f", r[1], rate))
    assert(rate >= r[4], r[1] .. ": detection rate " .. rate .. " below " .. r[4])
  end
end

print("detect_thresh: ok")
