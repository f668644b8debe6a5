-- iforest.lua: isolation forest against scikit-learn, in the same run.
--
--   moonwatch bench/iforest.lua [path/to/tests/tools/iforest_ref.py]
--
-- Both fit 100 trees of 256 rows and score the 49,097 x 9 rows of
-- iforest_ref.py's shuttle_like (made again here, in Lua: the same
-- numbers), best of 3 each, generation not timed: mw.detect.iforest's
-- fit + run against sklearn.ensemble.IsolationForest(n_jobs=1)'s fit +
-- score_samples, run by /usr/bin/python3 through io.popen. ROC AUC of
-- both against the labels. hbos and loda (fit + frozen run) for scale.
local REF = arg and arg[1] or "tests/tools/iforest_ref.py"

-- The data generator and the ROC AUC of the tests, one copy.
local tests = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/../tests/lua/"
local shuttle_like = dofile(tests .. "shuttle.lua")
local roc_auc = dofile(tests .. "helper.lua").roc_auc

local cols, labels = shuttle_like(49097, 2024)
local data = {}
for k = 1, 9 do data[k] = mw.series(cols[k]) end

local function best_of_3(make)
  local best, scores = math.huge, nil
  for _ = 1, 3 do
    local d = make()
    local t0 = mw.time.now()
    d:fit(data)
    scores = d:run(data)
    best = math.min(best, mw.time.now() - t0)
  end
  return best, roc_auc(scores, labels)
end

local ours, ours_auc = best_of_3(function() return mw.detect.iforest{} end)
local hbos, hbos_auc = best_of_3(function() return mw.detect.hbos{online = false} end)
local loda, loda_auc = best_of_3(function() return mw.detect.loda{online = false} end)

local pipe = io.popen("/usr/bin/python3 " .. REF .. " --bench 2>&1")
local out = pipe and pipe:read("a") or ""
if pipe then pipe:close() end
local theirs, theirs_auc = out:match("sklearn_seconds=([%d.]+) auc=([%d.]+)")

print(string.format("fit + score, 49097 x 9 rows, best of 3 (%s)", _VERSION))
print(string.format("  %-40s %9s %8s", "", "ms", "ROC AUC"))
print(string.format("  %-40s %9.1f %8.4f", "mw.detect.iforest{} (100 trees, 256)", ours * 1e3, ours_auc))
if theirs then
  print(string.format("  %-40s %9.1f %8.4f", "sklearn IsolationForest(n_jobs=1)",
                      tonumber(theirs) * 1e3, tonumber(theirs_auc)))
  print(string.format("  iforest: %.1fx faster, AUC %+.4f", tonumber(theirs) / ours,
                      ours_auc - tonumber(theirs_auc)))
else
  print("  (no scikit-learn baseline: " .. (out ~= "" and out:gsub("\n.*", "") or "python3 failed") .. ")")
end
print(string.format("  %-40s %9.1f %8.4f", "mw.detect.hbos{online = false}", hbos * 1e3, hbos_auc))
print(string.format("  %-40s %9.1f %8.4f", "mw.detect.loda{online = false}", loda * 1e3, loda_auc))
