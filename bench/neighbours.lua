-- neighbours.lua: knn and lof against scikit-learn on the same rows, in
-- the same run (bench/neighbours_ref.py, Debian's python3-sklearn).
--
--   scripts/bench neighbours
--   build-release/src/moonwatch bench/neighbours.lua [repeats]
--
-- For each shape (training rows x test rows x dims): rows from three
-- Gaussian clusters with 5% uniform outliers, written to CSV files that
-- both sides read untimed. Timed, best of `repeats`:
--   knn          fit(train) + run(test), k = 5, method largest
--                vs NearestNeighbors(5).fit(train).kneighbors(test)
--   lof novelty  fit(train) + run(test), k = 20
--                vs LocalOutlierFactor(20, novelty=True).fit.score_samples
--   lof batch    test(train): each row against the others
--                vs LocalOutlierFactor(20).fit(train).negative_outlier_factor_
-- and the streaming update of each kind (window 1000) in microseconds per
-- row, which scikit-learn has no counterpart for. The sums of the scores
-- must agree to 1e-9 (same numbers, not only the same speed).
local repeats = tonumber(arg and arg[1]) or 3
local tmp = os.tmpname()

-- The generator of the tests, one copy.
local lcg = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../tests/lua/helper.lua").lcg

-- n rows of dims values as a list of series (columns), and the CSV text
local function make(seed, n, dims)
  local g = lcg(seed)
  local cols = {}
  for k = 1, dims do cols[k] = {} end
  local lines = {}
  for i = 0, n - 1 do
    local row = {}
    for k = 1, dims do
      if i % 20 == 7 then
        row[k] = 12 * g.uniform() - 4
      else
        row[k] = (i % 3 == k % 3 and 4 or 0) + 0.8 * g.normal()
      end
      cols[k][i + 1] = row[k]
    end
    lines[#lines + 1] = table.concat((function()
      local t = {}
      for k = 1, dims do t[k] = string.format("%.17g", row[k]) end
      return t
    end)(), ",")
  end
  for k = 1, dims do cols[k] = mw.series(cols[k]) end
  return cols, table.concat(lines, "\n") .. "\n"
end

local function best(fn)
  local t_best, out = math.huge, nil
  for _ = 1, repeats do
    local t0 = mw.time.now()
    out = fn()
    local dt = mw.time.now() - t0
    if dt < t_best then t_best = dt end
  end
  return t_best, out
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local shapes = {{2000, 2000, 4}, {5000, 5000, 8}, {10000, 10000, 16}}
print(string.format("%-24s %-12s %10s %12s %8s", "shape", "task", "moonwatch", "scikit-learn",
                    "ratio"))
for _, shape in ipairs(shapes) do
  local n_train, n_test, dims = shape[1], shape[2], shape[3]
  local train, train_csv = make(1, n_train, dims)
  local test, test_csv = make(2, n_test, dims)
  write(tmp .. ".train", train_csv)
  write(tmp .. ".test", test_csv)
  local py = {}
  local pipe = io.popen(string.format("/usr/bin/python3 bench/neighbours_ref.py %s %s %d",
                                      tmp .. ".train", tmp .. ".test", repeats))
  for line in pipe:lines() do
    local name, secs, sum = line:match("^(%S+) (%S+) (%S+)$")
    if name then py[name] = {tonumber(secs), tonumber(sum)} end
  end
  pipe:close()
  local ours = {
    knn = {best(function()
      return mw.detect.knn{window = n_train}:fit(train):run(test)
    end)},
    lof_novelty = {best(function()
      return mw.detect.lof{window = n_train}:fit(train):run(test)
    end)},
    lof_batch = {best(function()
      return (mw.detect.lof{}:test(train))
    end)},
  }
  local label = string.format("%d x %d x %d", n_train, n_test, dims)
  for _, task in ipairs{"knn", "lof_novelty", "lof_batch"} do
    local secs, scores = ours[task][1], ours[task][2]
    local ref = py[task]
    assert(ref, "no scikit-learn figure for " .. task .. " (is python3-sklearn installed?)")
    local sum = scores:sum()
    assert(math.abs(sum - ref[2]) <= 1e-9 * math.abs(ref[2]),
           string.format("%s: sum of scores %.12g, scikit-learn %.12g", task, sum, ref[2]))
    print(string.format("%-24s %-12s %9.1fms %10.1fms %7.2fx", label, task, secs * 1e3,
                        ref[1] * 1e3, ref[1] / secs))
  end
  -- streaming: per row, window 1000
  for _, name in ipairs{"knn", "lof"} do
    local secs = best(function() return mw.detect[name]{}:run(test) end)
    print(string.format("%-24s %-12s %9.2fus/row %s", label, name .. " stream", secs / n_test * 1e6,
                        "(window 1000)"))
  end
end
os.remove(tmp .. ".train")
os.remove(tmp .. ".test")
os.remove(tmp)
