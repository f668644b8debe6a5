-- detect_change.lua: the change detectors cusum, page_hinkley,
-- level_shift and volatility_shift: against naive references written
-- below, against numbers computed by numpy, on River's own example, on
-- synthetic shifts (detection rates), and through the protocol every
-- detector keeps (score == update, update == run, save/load continues
-- exactly, NaN skipped, finite scores, parameter and state errors).
local t = require "helper"

local inf, nan = math.huge, 0 / 0

-- ---- helpers ------------------------------------------------------------

local function tolist(s)
  local out = {}
  for i = 1, #s do out[i] = s[i] end
  return out
end

local function isnan(v) return v ~= v end

-- Bit-identical (==), NaN matching NaN.
local function same(got, want, what)
  t.eq(#got, #want, what .. ": length")
  for i = 1, #want do
    local g, w = got[i], want[i]
    if not (g == w or (isnan(g) and isnan(w))) then
      error(string.format("%s: value %d is %.17g, expected %.17g", what, i, g, w), 2)
    end
  end
end

-- Within tol relative (or tol absolute near 0).
local function close(got, want, tol, what)
  t.eq(#got, #want, what .. ": length")
  for i = 1, #want do
    local g, w = got[i], want[i]
    if not (math.abs(g - w) <= tol * math.max(1, math.abs(w))) then
      error(string.format("%s: value %d is %.17g, expected %.17g", what, i, g, w), 2)
    end
  end
end

local function all_finite(list, what)
  for i, v in ipairs(list) do
    if not (v == v and v > -inf and v < inf) then
      error(string.format("%s: score %d is %s", what, i, tostring(v)), 2)
    end
  end
end

local function sorted_copy(a, i, j)
  local c = {}
  for k = i, j do c[#c + 1] = a[k] end
  table.sort(c)
  return c
end

local function median_sorted(c)
  local m = #c
  if m % 2 == 1 then return c[(m + 1) // 2] end
  return 0.5 * c[m // 2] + 0.5 * c[m // 2 + 1]
end

-- numpy's default (linear) quantile of a sorted list.
local function quantile_sorted(c, q)
  local pos = q * (#c - 1)
  local lo = math.floor(pos)
  local frac = pos - lo
  if frac == 0 then return c[lo + 1] end
  return c[lo + 1] + (c[lo + 2] - c[lo + 1]) * frac
end

-- The floor of a zero scale (mw_detect_standard_score's).
local function floor_scale(scale, centre)
  local f = math.max(1e-9 * math.abs(centre), 1e-12)
  return scale > f and scale or f
end

local function fold(z, side)
  if side == "up" then return math.max(z, 0) end
  if side == "down" then return math.max(-z, 0) end
  return math.abs(z)
end

-- The checksum of a saved state (blob.c's mw_blob_checksum), so that a
-- test can change a state's content and still get past the checksum to
-- the kind's own validation.
local checksum = t.checksum

local reseal = t.reseal

-- Offset (1-based) of the kind's own state in a saved detector.
local function state_offset(s)
  local name_len = s:byte(6)
  local n_params = s:byte(7 + name_len)
  return 7 + name_len + 1 + 8 * n_params + 8
end

-- A saved state whose kind state is replaced by `state`, resealed.
local function with_state(saved, state)
  return reseal(saved:sub(1, state_offset(saved) - 1) .. state)
end

local function detect_scores(kind, params, xs)
  return tolist(mw.detect[kind](params):run(mw.series(xs)))
end

-- ---- naive references ------------------------------------------------------

-- Tabular CUSUM: reference from the first `warmup` values (two-pass mean
-- and std) unless target and sigma are given.
local function cusum_ref(xs, p)
  local k, h = p.k or 0.5, p.h or 5
  local warmup = p.warmup or 100
  local side = p.side or "both"
  local restart = p.restart ~= false
  local learn_target, learn_sigma = p.learn_target ~= false, p.learn_sigma ~= false
  local target = learn_target and nil or (p.target or 0)
  local sigma = learn_sigma and nil or (p.sigma or 1)
  local ready = not learn_target and not learn_sigma
  local out, seen, hi, lo = {}, {}, 0, 0
  for i, x in ipairs(xs) do
    if not ready then
      seen[#seen + 1] = x
      out[i] = 0
      if #seen == warmup then
        local sum = 0
        for _, v in ipairs(seen) do sum = sum + v end
        local mean = sum / #seen
        local ss = 0
        for _, v in ipairs(seen) do ss = ss + (v - mean) ^ 2 end
        if learn_target then target = mean end
        if learn_sigma then sigma = math.sqrt(ss / (#seen - 1)) end
        ready = true
      end
    else
      local z = (x - target) / floor_scale(sigma, target)
      local new_hi = math.max(0, hi + z - k)
      local new_lo = math.max(0, lo - z - k)
      local score = side == "up" and new_hi or side == "down" and new_lo
                    or math.max(new_hi, new_lo)
      out[i] = score
      if restart and score > h then hi, lo = 0, 0 else hi, lo = new_hi, new_lo end
    end
  end
  return out
end

-- River's PageHinkley.update, line by line (reset on the update after a
-- drift; min_increase from +inf, max_decrease from -1), scored as the
-- statistic over the threshold.
local function page_hinkley_ref(xs, p)
  local min_instances, delta = p.min_instances or 30, p.delta or 0.005
  local threshold, alpha = p.threshold or 50, p.alpha or 1 - 0.0001
  local mode = p.mode or "both"
  local out, drift = {}, false
  local n, mean, inc, dec, min_inc, max_dec
  local function fresh() n, mean, inc, dec, min_inc, max_dec = 0, 0.0, 0.0, 0.0, inf, -1 end
  fresh()
  for i, x in ipairs(xs) do
    if drift then fresh(); drift = false end
    n = n + 1
    mean = mean + (x - mean) / n
    local dev = x - mean
    inc = alpha * inc + dev - delta
    dec = alpha * dec + dev + delta
    if inc < min_inc then min_inc = inc end
    if dec > max_dec then max_dec = dec end
    out[i] = 0
    if n >= min_instances then
      local up, down = inc - min_inc, max_dec - dec
      local stat = mode == "up" and up or mode == "down" and down or math.max(up, down)
      drift = stat > threshold
      out[i] = stat / threshold
    end
  end
  return out
end

-- Level shift: medians of the two windows ending at x by sorting copies;
-- scale: IQR / 1.349, else mean absolute deviation * 1.2533, else floor.
local function level_ref(xs, p)
  local w = p.window or 10
  local min_periods = (p.min_periods or 0) == 0 and w or p.min_periods
  local side = p.side or "both"
  local out = {}
  for i = 1, #xs do
    local n_left = math.max(0, math.min(w, i - w))
    if n_left < min_periods then
      out[i] = 0
    else
      local right = sorted_copy(xs, i - w + 1, i)
      local left = sorted_copy(xs, i - w - n_left + 1, i - w)
      local centre = median_sorted(left)
      local scale = (quantile_sorted(left, 0.75) - quantile_sorted(left, 0.25)) / 1.3489795003921634
      if not (scale > 0) then
        local sum = 0
        for _, v in ipairs(left) do sum = sum + math.abs(v - centre) end
        scale = sum / #left * 1.2533141373155003
      end
      out[i] = fold((median_sorted(right) - centre) / floor_scale(scale, centre), side)
    end
  end
  return out
end

local function mean_std(xs, i, j)
  local sum = 0
  for k = i, j do sum = sum + xs[k] end
  local mean = sum / (j - i + 1)
  local ss = 0
  for k = i, j do ss = ss + (xs[k] - mean) ^ 2 end
  return mean, math.sqrt(ss / (j - i))
end

-- Volatility shift: two-pass stds of the two windows ending at x.
local function volatility_ref(xs, p)
  local w = p.window or 30
  local min_periods = (p.min_periods or 0) == 0 and w or p.min_periods
  local direction = p.direction or "both"
  local out = {}
  for i = 1, #xs do
    local n_left = math.max(0, math.min(w, i - w))
    if n_left < min_periods then
      out[i] = 0
    else
      local mean_r, std_r = mean_std(xs, i - w + 1, i)
      local mean_l, std_l = mean_std(xs, i - w - n_left + 1, i - w)
      local f = math.max(1e-9 * math.max(math.abs(mean_l), math.abs(mean_r)), 1e-12)
      std_r, std_l = math.max(std_r, f), math.max(std_l, f)
      out[i] = direction == "increase" and std_r / std_l
               or direction == "decrease" and std_l / std_r
               or math.max(std_r / std_l, std_l / std_r)
    end
  end
  return out
end

-- ---- numbers from numpy ------------------------------------------------------

-- Computed by /usr/bin/python3 with numpy 1.24.2 (np.mean, np.std(ddof=1),
-- np.median, np.percentile), independently of the references above:
--
--   import numpy as np
--   rng = np.random.RandomState(7)
--   x = rng.normal(0.0, 1.0, 60); x[30:45] += 3.0; x[45:] *= 3.0
--   def cusum(x, k, h, warmup):
--       target, sigma = x[:warmup].mean(), x[:warmup].std(ddof=1)
--       out, hi, lo = [0.0] * warmup, 0.0, 0.0
--       for v in x[warmup:]:
--           z = (v - target) / sigma
--           hi, lo = max(0.0, hi + z - k), max(0.0, lo - z - k)
--           out.append(max(hi, lo))
--           if out[-1] > h: hi = lo = 0.0
--       return out
--   def page_hinkley(x, min_instances, delta, threshold, alpha):
--       # river.drift.PageHinkley.update (mode "both"); score = stat / threshold
--       out, drift = [], False
--       fresh = lambda: dict(n=0, mean=0.0, inc=0.0, dec=0.0,
--                            min_inc=float("inf"), max_dec=-1.0)
--       s = fresh()
--       for v in x:
--           if drift: s, drift = fresh(), False
--           s["n"] += 1; s["mean"] += (v - s["mean"]) / s["n"]
--           dev = v - s["mean"]
--           s["inc"] = alpha * s["inc"] + dev - delta
--           s["dec"] = alpha * s["dec"] + dev + delta
--           s["min_inc"] = min(s["min_inc"], s["inc"])
--           s["max_dec"] = max(s["max_dec"], s["dec"])
--           score = 0.0
--           if s["n"] >= min_instances:
--               stat = max(s["inc"] - s["min_inc"], s["max_dec"] - s["dec"])
--               drift = stat > threshold; score = stat / threshold
--           out.append(score)
--       return out
--   def level_shift(x, w):
--       out = []
--       for i in range(len(x)):
--           if i + 1 < 2 * w: out.append(0.0); continue
--           right, left = x[i - w + 1:i + 1], x[i - 2 * w + 1:i - w + 1]
--           q1, q3 = np.percentile(left, [25, 75])
--           scale = (q3 - q1) / 1.3489795003921634
--           if scale == 0:
--               scale = np.mean(np.abs(left - np.median(left))) * 1.2533141373155003
--           out.append(abs(np.median(right) - np.median(left)) / scale)
--       return out
--   def volatility_shift(x, w):
--       out = []
--       for i in range(len(x)):
--           if i + 1 < 2 * w: out.append(0.0); continue
--           r = x[i - w + 1:i + 1].std(ddof=1) / x[i - 2 * w + 1:i - w + 1].std(ddof=1)
--           out.append(max(r, 1 / r))
--       return out
--   lua = lambda name, v: print("  %s = {%s}," % (name, ", ".join("%.17g" % a for a in v)))
--   lua("x", x); lua("cusum", cusum(x, 0.5, 4.0, 10))
--   lua("page_hinkley", page_hinkley(x, 5, 0.005, 5.0, 0.9999))
--   lua("level_shift", level_shift(x, 5)); lua("volatility_shift", volatility_shift(x, 6))
local numpy = {
  x = {1.690525703800356, -0.46593737054083278, 0.032820163678584403, 0.40751628299650783, -0.7889230286257386, 0.0020655729059481302, -0.00089038585793136283, -1.7547243063454208, 1.0176580056634932, 0.60049851591954939, -0.62542897396675967, -0.17154826119572117, 0.50529937419675164, -0.26135641519164698, -0.24274907867254661, -1.4532414124907906, 0.55458031189188783, 0.12388090528703843, 0.27445992375996359, -1.5265245318698402, 1.6506996911864755, 0.15433553545635803, -0.38713994328638812, 2.0290722207611118, -0.04538602986064609, -1.4506786991465748, -0.40522785542768669, -2.2883151019717225, 1.0493965493432547, -0.41647431852001854, 2.2574464747954321, 4.0724701315754954, 1.3489244105941611, 3.535429356326091, 0.93558519687882447, 2.3378406603331912, 1.7957801544002674, 4.4619756272135245, 4.7661608779293339, 2.6705862480869351, 3.8407332421435356, 2.8200135987476496, 3.5680618873279819, 2.2471628035785352, 1.2916607968329441, -5.4092959754392229, 1.1493655552725359, 6.7427851584230982, 0.80823489152366101, -1.5738138582025569, 5.7360565869958213, 0.71190553991158034, 0.3043019556348463, 0.75773320666595256, -0.39713159270054144, -0.92842902176664122, -4.3048903981066626, 1.5048723695431223, -0.28432635131968248, 3.5792577670320318},
  cusum = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.22905031119594998, 0, 0, 0, 0, 1.0918460786932687, 0.091019946788612027, 0, 0, 1.1682261405125611, 1.1432674834907315, 0.72693450663978698, 0, 1.5376300248851531, 0.91313525532100548, 1.0891750651595258, 1.0887185651115754, 3.05092852250803, 1.5343752337087695, 1.5456404719481536, 1.7756553680866722, 5.4430372385794623, 0.82873918853710804, 3.936384956628709, 4.3343172286013356, 1.8594470095085462, 3.1539260522633468, 7.2272739090278941, 4.3903879671072392, 2.2062544158809545, 5.6321062029029285, 2.3619965619258636, 5.5036539108066549, 1.764937109230726, 2.5339927253962102, 5.2150833895340343, 0.62074698193883804, 7.0712913127064008, 0.26520014650972024, 1.2175139123663095, 5.4012714399243533, 0.16479991937028282, 0, 0.21256426195548084, 0, 0.54485513198281943, 4.6088607974107498, 0.99127750358213307, 0.11774480169737722, 3.2710711678247399},
  page_hinkley = {0, 0, 0, 0, 0.48339785231380306, 0.5112054087545429, 0.53539466362402222, 0.86334740122703091, 0.66184313508031989, 0.55548953065479234, 0.68161406157921989, 0.7139161843860734, 0.61869165319949659, 0.67258080817875077, 0.71932780981597022, 0.99004906436156936, 0.8668125052904696, 0.83172802746534091, 0.76990565967073543, 1.0533134854321649, 0, 0, 0, 0, 0.22921022337265134, 0.58335323468330691, 0.70750271100773732, 1.1455290765737542, 0, 0, 0, 0, 0.65941096397905818, 0.97053933270941006, 0.79135195396506142, 0.87984034800182109, 0.86200328430738193, 1.3257595832615301, 0, 0, 0, 0, 0.32305198891057868, 0.53634451158977969, 0.88279823076194364, 2.3584463330069041, 0, 0, 0, 0, 0.63175960379389706, 0.76289591916010635, 1.0975535391860809, 0, 0, 0, 0, 0.44084608028372835, 0.49869552718020199, 1.2156689308502098},
  level_shift = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0.04749801243285167, 0.0079949223879268189, 6.9474246610529811, 0.86327364047968647, 0.29104588228625378, 0.5491453955983292, 0.2661351680993943, 0.07834757273964793, 1.3070477827667852, 0.5198263613467432, 5.5070314953030275, 7.7688306757912935, 0.69869557080935618, 1.3904649832872615, 0.079431470831364093, 0.023778804199798467, 1.001779032199686, 4.8508705143428319, 1.1409306154222965, 0.37041165099714091, 0.45399285076263163, 0.89647503004333107, 5.3853058272727443, 1.6838595255978452, 2.5559751119434573, 3.4502476682919005, 2.5243309469178468, 0.37654674931574494, 1.1042819674884854, 0.049599754371860108, 0.25488946917535654, 0.92722007700510689, 2.7895181167842131, 0.95395279365869989, 0.24395863551543695, 0.094897186846494397, 1.2000148483091044, 2.0942302039416365, 3.0084836963964996, 2.5111210427104491, 2.0545462320007042, 0.96895558518717284, 0.59403650102698313, 0.71240655598137903, 1.2207136326002719, 0.047718604204979295, 0.23133415591848577, 0.32363968806667914, 2.9687846348616969, 3.2994381257696421, 2.9638371767536045},
  volatility_shift = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.1276069893564826, 2.3900816399890981, 1.2669190576402951, 2.0141033291709936, 1.5464478919652, 1.3439226979342154, 1.3221075015118053, 1.4400608161741519, 1.4390171317011884, 2.5526572845508824, 1.5878843030080283, 1.417353340888267, 1.7808004230005883, 1.8837385598241287, 1.4493143279130329, 1.0722355284536929, 1.4306008372300691, 1.5361562768012031, 1.136410322295857, 1.2464870366865233, 1.7271138406729396, 1.9113644613975969, 1.1394323678746572, 1.061362111681279, 1.0500732355224374, 1.3312915410080191, 1.662618077747408, 1.431843079704771, 1.106510108293048, 1.3827802426752132, 1.0535063241447256, 1.4632127837681501, 1.4685787885605619, 1.6586045989964042, 2.2959941113993612, 2.6712353489333354, 3.4773145820138671, 4.5917344625300398, 4.3222135930672927, 4.9191668251798299, 1.0658336903206611, 1.0231006723660603, 1.6450317583929912, 1.5472577488137491, 1.6620173623158283, 2.3738277822140721, 1.5859199309951961, 1.6494659042715112, 1.080608075107818},
}
close(detect_scores("cusum", {k = 0.5, h = 4, warmup = 10}, numpy.x), numpy.cusum, 1e-9,
      "cusum vs numpy")
close(detect_scores("page_hinkley", {min_instances = 5, delta = 0.005, threshold = 5,
                                     alpha = 0.9999}, numpy.x),
      numpy.page_hinkley, 1e-9, "page_hinkley vs numpy")
close(detect_scores("level_shift", {window = 5}, numpy.x), numpy.level_shift, 1e-9,
      "level_shift vs numpy")
close(detect_scores("volatility_shift", {window = 6}, numpy.x), numpy.volatility_shift, 1e-9,
      "volatility_shift vs numpy")
-- The case goes through the interesting paths: alarms and restarts.
local function count_above(list, v)
  local n = 0
  for _, s in ipairs(list) do if s > v then n = n + 1 end end
  return n
end
assert(count_above(numpy.cusum, 4) >= 2, "the numpy case has cusum alarms")
assert(count_above(numpy.page_hinkley, 1) >= 2, "the numpy case has Page-Hinkley drifts")

-- ---- River's own example -----------------------------------------------------

-- river.drift.PageHinkley's docstring: with the stream below, "Change
-- detected at index 1006, input value: 5" and no other detection. The
-- stream was made by /usr/bin/python3 (the random module is River's
-- source of it):
--   rng = random.Random(12345)
--   data = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
--   print("".join(str(v) for v in data))
local river_stream = table.concat{
  "0010001000101010101010000111011100011101111010110111001100100010111101100101010111001000110000110101",
  "1001000011001000010010011110001110010110001000011110100001110010001000011000000101010111011011100011",
  "0110000101001001000000010101111111011001110001001111110011001000010110111111011101000100101011100100",
  "0010111111111110011100000011011000110010001000010111100010101011100001111001001111100000100111000110",
  "1110110001011100110101000000011000101111011000011010111011000011110011111100001110000101110111100110",
  "0110101010101000000011110010100010101000001100000100010000001110010111100000110001010001011000101111",
  "1001011101000110001011110110011101001111001011111100111000010010100000110110011111001111100100111100",
  "1111001101110100111010011100111111110101110000000010110100011010011010111110001111111011111000000101",
  "0011000100000010001010101011111010111110100010011110000101010111000100010010000110110101100001111000",
  "1010001001100111010110110000110000111011101111011000100001001111000111000001010010101110110111111011",
  "4674675467764756676466746474645555557444777456664766654454646565467447777577777646545767746475746477",
  "6645454655577754475474654576744565577646666657775446745656567775444746754774775544755577555774457775",
  "4475454756465776664577554474745645445745564457655646546545446656756755556775576554644545557757545457",
  "6755447675774645464466776755655564477444757547467675447764574746475646757446564456444546465446646457",
  "4575745775554576766645545777655577765676767667575764654457465465477455656476576546574774565565457746",
  "7676556674576564447455644465455664745544667775664776757556657767557547657656764557557746765745465745",
  "5476565454477547447657767466756566764754754457746556557776776567664566647547574766466546574564447745",
  "6444746466645555745747767577557665676564766675646664545656554644566466447565654667576745756744467465",
  "5776575556465467774777464754666546464564757565546455555775666644756465444674656644764654566757565566",
  "4455575455564767546776456455745645656464674557457474656557474446554544665474657454765475455747746677",
}
do
  local xs = {}
  for c in river_stream:gmatch("%d") do xs[#xs + 1] = tonumber(c) end
  t.eq(#xs, 2000, "River's stream")
  local scores = detect_scores("page_hinkley", {}, xs)
  local detected = {}
  for i, s in ipairs(scores) do if s > 1 then detected[#detected + 1] = i end end
  t.eq(#detected, 1, "one drift in River's example")
  t.eq(detected[1], 1007, "at River's index 1006 (0-based)")
  t.eq(xs[1007], 5, "input value 5")
  close(scores, page_hinkley_ref(xs, {}), 1e-12, "River's example vs the reference")
end

-- ---- against the naive references ---------------------------------------

local refs = {
  cusum = cusum_ref, page_hinkley = page_hinkley_ref,
  level_shift = level_ref, volatility_shift = volatility_ref,
}

local shifted = tolist(mw.synth{n = 3000, noise = 1, seed = 11, anomalies = {
  {kind = "level", at = 800, len = 300, size = 3},
  {kind = "variance", at = 1800, len = 300, size = 3},
  {kind = "level", at = 2400, len = 200, size = -4},
}})
-- Mostly zeros: ties everywhere, so level_shift's IQR is often 0 and its
-- fallbacks (mean absolute deviation, then the floor) are exercised.
local ties = {}
for i, v in ipairs(shifted) do ties[i] = v > 1.2 and 1 or 0 end
local constant = {}
for i = 1, 400 do constant[i] = 7.5 end

local cases = {
  {"cusum", {}},
  {"cusum", {k = 0.25, h = 8, warmup = 50, side = "up"}},
  {"cusum", {side = "down", restart = false}},
  {"cusum", {learn_target = false, target = 0.1, learn_sigma = false, sigma = 0.8}},
  {"cusum", {learn_sigma = false, sigma = 2, warmup = 2}},
  {"cusum", {learn_target = false, target = -1}},
  {"page_hinkley", {}},
  {"page_hinkley", {threshold = 20, delta = 0.1, mode = "up"}},
  {"page_hinkley", {threshold = 20, mode = "down", alpha = 0.99, min_instances = 5}},
  {"page_hinkley", {threshold = 1e-3, min_instances = 1}},
  {"level_shift", {}},
  {"level_shift", {window = 5, side = "up"}},
  {"level_shift", {window = 20, min_periods = 7, side = "down"}},
  {"level_shift", {window = 2}},
  {"volatility_shift", {}},
  {"volatility_shift", {window = 10, direction = "increase"}},
  {"volatility_shift", {window = 50, min_periods = 10, direction = "decrease"}},
  -- Two values a window: the rolling variance of two close values loses
  -- digits to cancellation (3e-9 relative, measured), the two-pass one less.
  {"volatility_shift", {window = 2}, 1e-7},
}
for _, case in ipairs(cases) do
  local kind, params, tol = case[1], case[2], case[3] or 1e-9
  for name, xs in pairs{shifted = shifted, ties = ties, constant = constant} do
    local what = string.format("%s %s on %s data", kind, tostring(mw.detect[kind](params)), name)
    close(detect_scores(kind, params, xs), refs[kind](xs, params), tol, what)
  end
end

-- Hand-computed CUSUM: target 0, sigma 1, k 0.5, h 5.
do
  local given = {learn_target = false, learn_sigma = false}
  local d = mw.detect.cusum(given)
  t.eq(d:update(2), 1.5, "S_hi = 2 - 0.5")
  t.eq(d:score(1), 2, "score: 1.5 + 1 - 0.5, not learned")
  t.eq(d:update(1), 2, "the same, learned")
  t.eq(d:update(-1), 0.5, "S_hi back to 0.5, S_lo 0.5")
  t.eq(d:update(10), 10, "S_hi 10: an alarm")
  t.eq(d:update(0), 0, "restarted: both sums 0")
  given.restart = false
  local kept = mw.detect.cusum(given)
  kept:update(10)
  t.eq(kept:update(0), 9, "restart = false keeps the sum")
  given.restart, given.side = nil, "down"
  local down = mw.detect.cusum(given)
  t.eq(down:update(10), 0, "side down ignores rises")
  t.eq(down:update(-3), 2.5, "and counts falls")
end

-- ---- detection rates on synthetic shifts --------------------------------

-- The fraction of anomalies whose highest score inside the anomaly is
-- above the 99th percentile of the scores outside. Outside leaves out
-- the first 200 values (warm-up) and `margin` values after each anomaly:
-- its end is a change too, which these detectors rightly report.
local function detection_rate(scores, anomalies, margin)
  local excluded = {}
  for _, a in ipairs(anomalies) do
    for i = a.at, a.at + a.len - 1 + margin do excluded[i] = true end
  end
  local outside = {}
  for i = 201, #scores do
    if not excluded[i] then outside[#outside + 1] = scores[i] end
  end
  local q = mw.series(outside):quantile(0.99)
  local hits = 0
  for _, a in ipairs(anomalies) do
    local top = -inf
    for i = a.at, a.at + a.len - 1 do top = math.max(top, scores[i]) end
    if top > q then hits = hits + 1 end
  end
  return hits / #anomalies
end

-- 30 anomalies of one kind, 1500 values apart, on Gaussian noise of
-- std 1; level shifts alternate up and down.
local function synth_shifts(kind, size, len, seed)
  local list = {}
  for j = 1, 30 do
    local sign = (kind == "level" and j % 2 == 0) and -1 or 1
    list[j] = {kind = kind, at = 1000 + 1500 * (j - 1), len = len, size = sign * size}
  end
  return mw.synth{n = 1000 + 1500 * 30, noise = 1, seed = seed, anomalies = list}, list
end

do
  -- Level shifts of 1.5 standard deviations for 150 values. Measured:
  -- cusum 1.0, page_hinkley 0.967, level_shift 0.767.
  local s, list = synth_shifts("level", 1.5, 150, 21)
  local floors = {cusum = 0.95, page_hinkley = 0.9, level_shift = 0.7}
  for kind, floor in pairs(floors) do
    local rate = detection_rate(tolist(mw.detect[kind]():run(s)), list, 100)
    assert(rate >= floor, string.format("%s finds %.3f of the level shifts", kind, rate))
  end
  -- The noise doubling for 200 values. Measured: 0.967.
  local v, vlist = synth_shifts("variance", 2, 200, 22)
  local rate = detection_rate(tolist(mw.detect.volatility_shift():run(v)), vlist, 100)
  assert(rate >= 0.9, string.format("volatility_shift finds %.3f of the variance changes", rate))
end

-- ---- the protocol every detector keeps ----------------------------------

local function slice(list, i, j)
  local out = {}
  for k = i, j do out[#out + 1] = list[k] end
  return out
end

local function describe(d) return (tostring(d):gsub(" %(.*", "")) end

local protocol_cases = {
  {"cusum", {}},
  {"cusum", {side = "up", restart = false, warmup = 7}},
  {"cusum", {learn_target = false, target = 0.5, learn_sigma = false, sigma = 3}},
  {"page_hinkley", {threshold = 10}},
  {"page_hinkley", {mode = "down", min_instances = 3, threshold = 5}},
  {"level_shift", {}},
  {"level_shift", {window = 7, min_periods = 3, side = "up"}},
  {"volatility_shift", {}},
  {"volatility_shift", {window = 8, min_periods = 2, direction = "increase"}},
}
local data = tolist(mw.synth{n = 1500, noise = 1, seed = 5, anomalies = 6})
-- The same with non-finite values here and there.
local with_nan = {}
for i, v in ipairs(data) do
  with_nan[#with_nan + 1] = v
  if i % 97 == 0 then with_nan[#with_nan + 1] = nan end
  if i % 331 == 0 then with_nan[#with_nan + 1] = (i % 2 == 0) and inf or -inf end
end

for _, case in ipairs(protocol_cases) do
  local kind, params = case[1], case[2]
  local what = describe(mw.detect[kind](params))
  local full = detect_scores(kind, params, data)
  all_finite(full, what)

  -- score(x) is what update(x) returns, and learns nothing; update in a
  -- loop gives run's numbers; a non-finite value scores NaN and changes
  -- nothing.
  local d, looped = mw.detect[kind](params), {}
  for i, x in ipairs(with_nan) do
    local before = d:count()
    local s = d:score(x)
    t.eq(d:count(), before, what .. ": score learns nothing")
    looped[i] = d:update(x)
    same({s}, {looped[i]}, what .. ": score == update at " .. i)
  end
  same(looped, detect_scores(kind, params, with_nan), what .. ": update loop == run")
  local finite_only = {}
  for i, x in ipairs(with_nan) do
    if x - x == 0 then
      finite_only[#finite_only + 1] = looped[i]
    else
      assert(isnan(looped[i]), what .. ": a non-finite value scores NaN")
    end
  end
  same(finite_only, full, what .. ": non-finite values skipped")
  t.eq(d:count(), #data, what .. ": count of finite values")

  -- Saved at any point (before, at and after each warm-up boundary),
  -- loaded, continued: the numbers of an uninterrupted run.
  for _, cut in ipairs{1, 2, 6, 7, 8, 13, 14, 15, 29, 30, 31, 59, 60, 61, 99, 100, 101, 700} do
    local a = mw.detect[kind](params)
    a:run(mw.series(slice(data, 1, cut)))
    local saved = a:save()
    local b = mw.detect.load(saved)
    t.eq(b:save(), saved, what .. ": save(load(s)) == s")
    t.eq(tostring(b), tostring(a), what .. ": the same detector")
    local rest = mw.series(slice(data, cut + 1, #data))
    local want = slice(full, cut + 1, #full)
    same(tolist(b:run(rest)), want, what .. ": loaded at " .. cut .. " continues exactly")
    same(tolist(a:run(rest)), want, what .. ": the saved one goes on too")
  end
  local c = mw.detect[kind](params)
  c:run(mw.series(slice(data, 1, 333)))
  same(tolist(c:clone():run(mw.series(slice(data, 334, #data)))), slice(full, 334, #full),
       what .. ": a clone continues exactly")

  -- reset: back to new, memory kept.
  local bytes = d:bytes()
  d:reset()
  t.eq(d:count(), 0, what .. ": reset count")
  t.eq(d:bytes(), bytes, what .. ": reset keeps the memory")
  same(tolist(d:run(mw.series(data))), full, what .. ": reset starts afresh")
end

-- Memory: the windows are charged to the detector, exactly.
t.eq(mw.detect.level_shift{window = 100}:bytes() - mw.detect.level_shift{window = 10}:bytes(),
     90 * 4 * 8, "level_shift: 4 * window doubles")
t.eq(mw.detect.volatility_shift{window = 100}:bytes()
     - mw.detect.volatility_shift{window = 10}:bytes(), 90 * 2 * 8,
     "volatility_shift: 2 * window doubles")
t.eq(mw.detect.cusum{warmup = 1000}:bytes(), mw.detect.cusum():bytes(), "cusum: O(1) memory")

-- ---- constant, extreme and short input -----------------------------------

local function rep(v, n)
  local out = {}
  for i = 1, n do out[i] = v end
  return out
end
local step_up = rep(5, 300)
for i = 301, 400 do step_up[i] = 6 end
local extreme = {}
local extremes = {1e308, -1e308, 0, 1e-310, -1.5e300, 3, 1.7976931348623157e308}
for i = 1, 400 do extreme[i] = extremes[i % #extremes + 1] end

for _, case in ipairs(protocol_cases) do
  local kind, params = case[1], case[2]
  local what = describe(mw.detect[kind](params))
  for name, xs in pairs{constant = rep(7.5, 400), zeros = rep(0, 400), tenth = rep(0.1, 400),
                        step = step_up, extreme = extreme} do
    all_finite(detect_scores(kind, params, xs), what .. " on " .. name .. " data")
  end
  -- Constant data is no change at all.
  local flat = detect_scores(kind, params, rep(0.1, 400))
  local no_change = kind == "volatility_shift" and 1 or 0
  t.eq(flat[400], no_change, what .. ": constant data")
  -- A jump after constant data is a large, finite score, where the scale
  -- is learned from the data (Page-Hinkley's is in the units of x).
  if kind ~= "page_hinkley" and params.learn_sigma ~= false then
    local jump = detect_scores(kind, params, step_up)
    local top = 0
    for i = 301, 400 do top = math.max(top, jump[i]) end
    assert(top > 1e3, what .. ": a jump after constant data scores " .. top)
  end
  -- After extreme values the state is still finite: it saves and loads.
  if kind ~= "volatility_shift" then
    local a = mw.detect[kind](params)
    a:run(mw.series(extreme))
    local b = mw.detect.load(a:save())
    same(tolist(b:run(mw.series(data))), tolist(a:run(mw.series(data))),
         what .. ": saved after extreme values")
  end
end

-- Signed zeros: -0.0 and 0.0 are one value to every kind, and a state
-- saved among them continues exactly (level_shift rebuilds its sorted
-- windows on load: -0.0 is learned as 0.0 so the rebuild is the same).
do
  local zeros = {}
  for i = 1, 120 do zeros[i] = (i % 3 == 0) and -0.0 or (i % 3 == 1) and 0.0 or (i % 7) end
  for _, case in ipairs(protocol_cases) do
    local kind, params = case[1], case[2]
    local full = detect_scores(kind, params, zeros)
    for _, cut in ipairs{20, 41, 77} do
      local a = mw.detect[kind](params)
      a:run(mw.series(slice(zeros, 1, cut)))
      local b = mw.detect.load(a:save())
      same(tolist(b:run(mw.series(slice(zeros, cut + 1, #zeros)))), slice(full, cut + 1, #full),
           describe(a) .. ": saved among signed zeros")
    end
  end
end

-- A window (or warm-up) longer than the data: all scores 0.
for kind, params in pairs{cusum = {warmup = 500}, page_hinkley = {min_instances = 500},
                          level_shift = {window = 300}, volatility_shift = {window = 300}} do
  for i, s in ipairs(detect_scores(kind, params, slice(data, 1, 400))) do
    t.eq(s, 0, kind .. ": longer than the data, score " .. i)
  end
end
-- A partly filled left window scores once it holds min_periods values.
close(detect_scores("level_shift", {window = 300, min_periods = 50}, slice(data, 1, 400)),
      level_ref(slice(data, 1, 400), {window = 300, min_periods = 50}), 1e-9,
      "level_shift with a partial left window")
close(detect_scores("volatility_shift", {window = 300, min_periods = 50}, slice(data, 1, 400)),
      volatility_ref(slice(data, 1, 400), {window = 300, min_periods = 50}), 1e-9,
      "volatility_shift with a partial left window")

-- ---- parameter errors --------------------------------------------------------

local bad_params = {
  {"cusum", {k = -1}, "k must be a number in [0, 1000000], got -1"},
  {"cusum", {h = 0}, "h must be a number in (0, 1000000], got 0"},
  {"cusum", {warmup = 1}, "warmup must be an integer in [2, 1000000000], got 1"},
  {"cusum", {warmup = 2.5}, "warmup must be an integer"},
  {"cusum", {learn_target = 1}, "learn_target must be a boolean (got number)"},
  {"cusum", {target = 5}, "target (5) is given but learn_target is true"},
  {"cusum", {sigma = 2}, "sigma (2) is given but learn_sigma is true"},
  {"cusum", {learn_sigma = false, sigma = 0}, "sigma must be a number in (0, "},
  {"cusum", {target = inf, learn_target = false}, "target must be a number in"},
  {"cusum", {side = "left"}, "side must be one of 'both', 'up', 'down' (got 'left')"},
  {"cusum", {restart = "yes"}, "restart must be a boolean (got string)"},
  {"cusum", {bogus = 1}, "unknown parameter 'bogus'; valid parameters: k, h, warmup"},
  {"page_hinkley", {min_instances = 0}, "min_instances must be an integer in [1, "},
  {"page_hinkley", {delta = -0.1}, "delta must be a number in [0, "},
  {"page_hinkley", {threshold = 0}, "threshold must be a number in (0, "},
  {"page_hinkley", {alpha = 0}, "alpha must be a number in (0, 1], got 0"},
  {"page_hinkley", {alpha = 1.5}, "alpha must be a number in (0, 1], got 1.5"},
  {"page_hinkley", {mode = "sideways"}, "mode must be one of 'both', 'up', 'down'"},
  {"page_hinkley", {mode = 1}, "mode must be one of 'both', 'up', 'down'"},
  {"level_shift", {window = 1}, "window must be an integer in [2, 1000000], got 1"},
  {"level_shift", {window = 2e6}, "window must be an integer in [2, 1000000]"},
  {"level_shift", {min_periods = 1}, "min_periods must be 0 (the full window) or at least 2 (got 1)"},
  {"level_shift", {window = 10, min_periods = 11}, "min_periods (11) must not exceed window (10)"},
  {"level_shift", {min_periods = -1}, "min_periods must be an integer in [0, "},
  {"level_shift", {side = "positive"}, "side must be one of 'both', 'up', 'down' (got 'positive')"},
  {"volatility_shift", {window = 0}, "window must be an integer in [2, "},
  {"volatility_shift", {min_periods = 1}, "min_periods must be 0 (the full window) or at least 2"},
  {"volatility_shift", {min_periods = 31}, "min_periods (31) must not exceed window (30)"},
  {"volatility_shift", {direction = "up"},
   "direction must be one of 'both', 'increase', 'decrease' (got 'up')"},
}
for _, case in ipairs(bad_params) do
  t.raises(case[3], mw.detect[case[1]], case[2])
end
-- The boundaries themselves are accepted.
mw.detect.cusum{k = 0, warmup = 2, learn_target = false, target = -1e300}
mw.detect.page_hinkley{alpha = 1, delta = 0, min_instances = 1}
mw.detect.level_shift{window = 2, min_periods = 2}
mw.detect.volatility_shift{window = 2, min_periods = 0}
t.eq(mw.detect.info("page_hinkley").params[4].default, 1 - 0.0001, "River's alpha")

-- ---- corrupt saved states ------------------------------------------------------

local function trained(kind, params)
  local d = mw.detect[kind](params)
  d:run(mw.series(data))
  return d:save()
end

for _, case in ipairs(protocol_cases) do
  local kind, params = case[1], case[2]
  local saved = trained(kind, params)
  local middle = #saved // 2
  local flipped = saved:sub(1, middle - 1) .. string.char(saved:byte(middle) ~ 0x10)
                  .. saved:sub(middle + 1)
  t.raises("checksum mismatch", mw.detect.load, flipped)
  t.raises("bad detector state", mw.detect.load, saved:sub(1, -2))
  -- Resealing an unchanged state gives the state: the crafted ones below
  -- differ from a valid one only where they say.
  t.eq(with_state(saved, saved:sub(state_offset(saved), -9)), saved, "reseal " .. kind)
end

do
  local f64 = function(...) return string.pack(string.rep("d", select("#", ...)), ...) end
  local u64 = function(v) return string.pack("<I8", v) end
  local function rejects(kind, params, state, pattern)
    local saved = trained(kind, params)
    t.raises(pattern, mw.detect.load, with_state(saved, state))
  end
  -- cusum: u8 ready, u64 warm-up count, f64 warm-up mean and m2, target,
  -- sigma, upper and lower sums.
  local function cusum_state(ready, seen, mean, m2, target, sigma, hi, lo)
    return string.char(ready) .. u64(seen) .. f64(mean, m2, target, sigma, hi, lo)
  end
  local good = cusum_state(1, 100, 0, 99, 0, 1, 0, 0)
  t.eq(describe(mw.detect.load(with_state(trained("cusum", {}), good))), describe(mw.detect.cusum()),
       "a crafted valid cusum state loads")
  rejects("cusum", {}, cusum_state(2, 100, 0, 99, 0, 1, 0, 0), "ready flag 2")
  rejects("cusum", {}, cusum_state(1, 3, 0, 99, 0, 1, 0, 0), "ready flag 1 does not match the warm-up count 3")
  rejects("cusum", {}, cusum_state(0, 100, 0, 99, 0, 1, 0, 0), "ready flag 0 does not match")
  rejects("cusum", {}, cusum_state(1, 101, 0, 99, 0, 1, 0, 0), "warm-up count out of range (101, at most 100)")
  rejects("cusum", {}, cusum_state(1, 100, 0, 99, 0, 1, nan, 0), "upper sum is not a finite number")
  rejects("cusum", {}, cusum_state(1, 100, 0, 99, 0, 1, 0, -1), "sums out of range")
  rejects("cusum", {}, cusum_state(1, 100, 0, 99, 0, -1, 0, 0), "negative spread")
  rejects("cusum", {learn_target = false, target = 2}, cusum_state(1, 100, 0, 99, 3, 1, 0, 0),
          "target does not match the parameter")
  rejects("cusum", {learn_target = false, learn_sigma = false}, cusum_state(1, 1, 0, 0, 0, 1, 0, 0),
          "warm-up count out of range (1, at most 0)")
  rejects("cusum", {}, cusum_state(1, 100, 0, 99, 0, 1, 0, 0) .. "x", "1 unexpected bytes")
  -- page_hinkley: u64 n, f64 mean, upward sum and minimum, downward sum
  -- and maximum.
  rejects("page_hinkley", {}, u64(5) .. f64(0, -1, 0, 1, 2), "extremes do not bound the sums")
  rejects("page_hinkley", {}, u64(5) .. f64(0, 1, 0, 1, 0.5), "extremes do not bound the sums")
  rejects("page_hinkley", {}, u64(5) .. f64(inf, 0, 0, 0, 0), "mean is not a finite number")
  rejects("page_hinkley", {}, u64(5) .. f64(0, 2e300, 2e300, 0, 0), "sums out of range")
  rejects("page_hinkley", {}, u64(5) .. f64(0, 0, 0, 0), "truncated")
  rejects("page_hinkley", {}, u64(-1) .. f64(0, 0, 0, 0, 0), "count out of range")
  -- level_shift (window 10): u64 count, then count values, oldest first.
  rejects("level_shift", {}, u64(21) .. f64(table.unpack(rep(1, 21))), "ring count out of range (21, at most 20)")
  rejects("level_shift", {}, u64(3) .. f64(1, nan, 2), "value 1 is not finite")
  rejects("level_shift", {}, u64(3) .. f64(1, -0.0, 2), "value 1 is -0")
  rejects("level_shift", {}, u64(3) .. f64(1, 2), "truncated")
  rejects("level_shift", {}, u64(1e18) .. f64(1, 2), "ring count out of range")
  local ok = with_state(trained("level_shift", {}), u64(12) .. f64(table.unpack(slice(data, 1, 12))))
  local fresh = mw.detect.level_shift()
  fresh:run(mw.series(slice(data, 1, 12)))
  same(tolist(mw.detect.load(ok):run(mw.series(data))), tolist(fresh:run(mw.series(data))),
       "a crafted level_shift state is rebuilt into the sorted windows")
  -- volatility_shift (window 30): each window as u64 count, head, age,
  -- f64 mean, m2, then its values.
  local function win(count, head, values)
    return u64(count) .. u64(head) .. u64(0) .. f64(0, 0) .. f64(table.unpack(values))
  end
  rejects("volatility_shift", {}, win(5, 5, rep(1, 5)) .. win(2, 2, rep(1, 2)),
          "the left window fills only once the right one is full")
  rejects("volatility_shift", {}, win(31, 0, rep(1, 31)) .. win(0, 0, {}), "window count out of range")
  rejects("volatility_shift", {}, win(5, 3, rep(1, 5)) .. win(0, 0, {}), "window position 3 does not match its count 5")
  rejects("volatility_shift", {}, win(30, 0, rep(1, 30)) .. win(2, 2, {1, inf}), "window value 1 is not finite")
end

print("detect_change: ok")
