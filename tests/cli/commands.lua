-- commands.lua: `moonwatch detect` and `moonwatch eval` through the real
-- binary. Usage: commands.lua <moonwatch> <nab dir, may not exist>
local bin = assert(arg[1], "usage: commands.lua <moonwatch> <nab dir>")
local nab = arg[2]
local t = {}
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))

local function run(args, stdin)
  if stdin then
    local fh = assert(io.open(tmp .. "/stdin.txt", "w"))
    fh:write(stdin)
    fh:close()
  end
  local cmd = string.format("cd %q && %q %s <%s 2>%q/stderr; echo \"rc=$?\"", tmp, bin, args,
                            stdin and "stdin.txt" or "/dev/null", tmp)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  local fh = io.open(tmp .. "/stderr")
  local err = fh:read("a")
  fh:close()
  return out:gsub("rc=%d+\n$", ""), rc, err
end

local function check(cond, fmt, ...)
  if not cond then error(string.format(fmt, ...), 2) end
end

local function write(path, text)
  local fh = assert(io.open(tmp .. "/" .. path, "w"))
  fh:write(text)
  fh:close()
end

local function read(path)
  local fh = io.open(tmp .. "/" .. path)
  if not fh then return nil end
  local s = fh:read("a")
  fh:close()
  return s
end

local function lines(text)
  local l = {}
  for line in text:gmatch("[^\n]+") do l[#l + 1] = line end
  return l
end

-- A series of 600 rows at 5-minute steps: a sine wave, a spike at row 400.
local rows = {"timestamp,value"}
local base = mw.time.parse("2024-03-01 00:00:00")
local values = {}
for i = 1, 600 do
  values[i] = 10 + math.sin(i / 10) + (i == 400 and 25 or 0)
  rows[#rows + 1] = mw.time.format(base + (i - 1) * 300000) .. "," .. string.format("%.17g", values[i])
end
write("series.csv", table.concat(rows, "\n") .. "\n")

-- detect with one detector: rows on stdout, the summary on stderr.
local out, rc, err = run("detect --detector zscore --param window=100 --param min_periods=100 series.csv")
local first_rows = out
check(rc == 0, "detect exit %s: %s", rc, err)
local l = lines(out)
check(l[1] == "timestamp,value,score,anomaly", "header: %s", l[1])
check(#l == 601, "600 rows and a header, got %d", #l)
check(l[401]:match("^2024%-03%-02 09:15:00,") and l[401]:match(",1$"), "row 400 is the anomaly: %s", l[401])
-- The scores are those of the detector run in this process.
local z = mw.detect.zscore{window = 100, min_periods = 100}:run(mw.series(values))
local anomalies = 0
for i = 1, 600 do
  local stamp, value, score, flag = l[i + 1]:match("^([^,]*),([^,]*),([^,]*),([01])$")
  check(stamp == mw.time.format(base + (i - 1) * 300000), "row %d stamp %s", i, stamp)
  check(math.abs(tonumber(value) - values[i]) <= 1e-12 * math.abs(values[i]), "row %d value", i)
  check(math.abs(tonumber(score) - z[i]) <= 1e-5 * math.max(1, z[i]), "row %d score %s vs %s", i, score, z[i])
  check((flag == "1") == (z[i] >= 3), "row %d flag at threshold 3", i)
  if flag == "1" then anomalies = anomalies + 1 end
end
check(err:find("series.csv: 600 rows, " .. anomalies .. " anomalies", 1, true), "summary: %s", err)
check(err:find("peak memory", 1, true), "summary has peak memory: %s", err)

-- --threshold, --out, --quiet; standard input.
out, rc, err = run("detect --detector zscore --param window=100 --threshold 1e9 --out o/scores.csv series.csv")
check(rc == 0 and out:find("0 anomalies", 1, true), "threshold 1e9: %s %s", out, err)
check(#lines(read("o/scores.csv")) == 601, "--out file written")
out, rc = run("detect --quiet --detector zscore --param window=100 --param min_periods=100 -", read("series.csv"))
check(rc == 0 and out == first_rows, "stdin gives the same rows")

-- From a pipe, a batch is what has arrived: rows that come slowly
-- (tail -f) are not held back until a batch fills.
do
  local p = io.popen(string.format(
    "(printf 'timestamp,value\\n2024-01-01 00:00:00,1\\n2024-01-01 00:05:00,2\\n'; sleep 1; " ..
    "printf '2024-01-01 00:10:00,3\\n') | %q -e 'for b in mw.csv(\"-\", {batch = 65536}) do " ..
    "io.write(#b, \" \") end'", bin))
  local sizes = p:read("a")
  p:close()
  check(sizes == "2 1 ", "batches from a pipe: %q", sizes)
end

-- A directory: one output file per input, a total line.
assert(os.execute("mkdir -p '" .. tmp .. "/dir/a' && cp '" .. tmp .. "/series.csv' '" .. tmp
                  .. "/dir/a/one.csv' && cp '" .. tmp .. "/series.csv' '" .. tmp .. "/dir/two.csv'"))
out, rc, err = run("detect --detector zscore --param window=100 --out res dir")
check(rc == 0, "dir: %s", err)
check(read("res/a/one.csv") and read("res/two.csv"), "one output per input, same layout")
check(out:find("total zscore: 1200 rows", 1, true), "total line: %s", out)
out, rc, err = run("detect --detector zscore --out x.csv dir")
check(rc ~= 0 and err:find("give a directory", 1, true), "--out file with a dir: %s", err)

-- A multivariate detector scores rows of several columns.
do
  local r = {"timestamp,cpu,mem,lat"}
  for i = 1, 400 do
    r[#r + 1] = string.format("%s,%.6f,%.6f,%.6f", mw.time.format(base + (i - 1) * 300000),
                              50 + 5 * math.sin(i / 7), 30 + 3 * math.cos(i / 5),
                              (i == 300 and 900 or 100) + 10 * math.sin(i / 3))
  end
  write("multi.csv", table.concat(r, "\n") .. "\n")
  out, rc, err = run("detect --quiet --detector loda --param window=100 multi.csv")
  check(rc == 0, "multivariate detect: %s", err)
  l = lines(out)
  check(l[1] == "timestamp,cpu,mem,lat,score,anomaly" and #l == 401, "one column per input column: %s", l[1])
  local top, at = -1, 0
  for i = 2, #l do
    local score = tonumber(l[i]:match(",([^,]*),[01]$"))
    if score and score > top then top, at = score, i - 1 end
  end
  check(at == 300, "the row with the latency spike scores highest (got row %d)", at)
  out, rc, err = run("detect --quiet --detector hbos --columns lat,cpu multi.csv")
  check(rc == 0 and lines(out)[1] == "timestamp,lat,cpu,score,anomaly", "--columns: %s", err)
  local _, _, e = run("detect --detector hbos --columns lat,nope multi.csv")
  check(e:find("no column 'nope'", 1, true), "--columns names a missing column: %s", e)
  _, rc, e = run("detect --columns a,b multi.csv")
  check(rc == 2 and e:find("--columns goes with a multivariate --detector", 1, true), "--columns without one: %s", e)
end

-- A pipeline of one's own, with a parameter.
write("mine.lua", [[
return {
  name = "mine",
  params = {level = 20},
  new = function(params)
    return {threshold = 0.5, run = function(_, values)
      return values:gt(params.level)
    end}
  end,
}
]])
out, rc, err = run("detect --pipeline mine.lua --quiet series.csv")
check(rc == 0, "own pipeline: %s", err)
local flagged = 0
for _, line in ipairs(lines(out)) do if line:match(",1$") then flagged = flagged + 1 end end
check(flagged == 1, "own pipeline flags the spike only, got %d", flagged)
out, rc = run("detect --pipeline mine.lua --param level=100 --quiet series.csv")
check(rc == 0 and not out:find(",1\n", 1, true), "parameter overrides the default")

-- Errors name what was wrong; rows read before a bad row are written.
local function fails(args, text, stdin)
  local o, r, e = run(args, stdin)
  check(r ~= 0, "%s: expected failure, got exit 0", args)
  -- Usage errors (options) exit 2, the others 1.
  local usage = false
  for _, u in ipairs{"unknown option", "not NAME=VALUE", "not both", "is required", "unknown profile",
                     "number of runtimes"} do
    usage = usage or text:find(u, 1, true) ~= nil
  end
  check(r == (usage and 2 or 1), "%s: exit %d", args, r)
  check(e:find(text, 1, true), "%s: expected '%s' in:\n%s", args, text, e)
  check(not e:find("stack traceback", 1, true), "%s: no traceback for a user error:\n%s", args, e)
  return o, e
end
fails("detect --bogus", "unknown option '--bogus'")
fails("detect --pipeline nope series.csv", "no pipeline 'nope'")
fails("detect --pipeline mine.lua --param levle=3 series.csv", "pipeline 'mine' has no parameter 'levle'; its parameters are level")
fails("detect --pipeline mine.lua --param level=x series.csv", "parameter 'level' of pipeline 'mine' must be a number")
fails("detect --detector zscor series.csv", "no detector 'zscor'")
fails("detect --detector zscore --param window=-1 series.csv", "window must be an integer")
fails("detect --detector zscore --param window series.csv", "--param 'window' is not NAME=VALUE")
fails("detect --detector zscore --pipeline mine.lua series.csv", "give --pipeline or --detector, not both")
fails("detect --detector zscore missing.csv", "cannot open 'missing.csv'")
fails("detect --detector zscore --column nope series.csv", "no column 'nope'")
write("bad.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n2024-01-01 00:10:00,x\n")
out = fails("detect --detector zscore bad.csv", "bad.csv:4: column 'value' (2): not a number: 'x' (after 2 rows, written)")
check(#lines(out) == 3, "the two good rows were written before the error:\n%s", out)
out = run("detect --help")
check(out:find("usage: moonwatch detect", 1, true), "detect --help")

-- eval on a corpus made here: two series with a labelled window each,
-- the spike at the window's first row: a detector that fires on the spike
-- only is perfect (100); NAB's layout is written.
assert(os.execute("mkdir -p '" .. tmp .. "/corpus/cat'"))
local labels = {}
for k, at in ipairs{400, 450} do
  local r = {"timestamp,value"}
  for i = 1, 600 do
    r[#r + 1] = mw.time.format(base + (i - 1) * 300000) .. "," .. (10 + math.sin(i / 10) + (i == at and 25 or 0))
  end
  write("corpus/cat/s" .. k .. ".csv", table.concat(r, "\n") .. "\n")
  labels[k] = string.format('"cat/s%d.csv": [["%s.000000", "%s.000000"]]', k,
                            mw.time.format(base + (at - 1) * 300000), mw.time.format(base + (at + 29) * 300000))
end
write("labels.json", "{\n" .. table.concat(labels, ",\n") .. "\n}\n")
out, rc, err = run("eval --data corpus --labels labels.json --pipeline mine.lua --results nabres")
check(rc == 0, "eval: %s", err)
check(out:find("mine on 2 series (2 labelled windows)", 1, true), "eval header:\n%s", out)
check(out:match("standard%s+100%.00"), "perfect detector scores 100:\n%s", out)
check(out:match("reward_low_FP_rate%s+100%.00") and out:match("reward_low_FN_rate%s+100%.00"), "all profiles:\n%s", out)
check(out:find("cat/s1.csv", 1, true), "per-file table:\n%s", out)
local res = read("nabres/mine/cat/mine_s1.csv")
check(res, "NAB layout file written")
local rl = lines(res)
check(rl[1] == "timestamp,value,anomaly_score,label" and #rl == 601, "NAB results header and rows")
check(rl[401]:match(",1,1$") and rl[400]:match(",0,0$") and rl[431]:match(",1$") and rl[432]:match(",0$"),
      "anomaly_score and label columns: %s / %s", rl[400], rl[401])
out, rc = run("eval --data corpus --labels labels.json --pipeline mine.lua --param level=1000 --profile standard --quiet")
check(rc == 0 and out:match("standard%s+0%.00") and not out:find("reward_low", 1, true), "null detector 0, one profile:\n%s", out)
fails("eval --labels labels.json", "--data DIR is required")
fails("eval --data corpus --labels labels.json --profile best", "unknown profile 'best'")
fails("eval --data corpus --labels missing.json --pipeline mine.lua", "cannot open 'missing.json'")

-- The whole NAB sample: the command's scores are the library's.
if nab and io.open(nab .. "/labels/combined_windows.json") then
  out, rc, err = run(string.format("eval --data %q --labels %q --pipeline gaussian --quiet", nab .. "/data",
                                   nab .. "/labels/combined_windows.json"))
  check(rc == 0, "eval on NAB: %s", err)
  local L = mw.nab.labels(nab .. "/labels/combined_windows.json")
  local runs = {}
  for _, name in ipairs(mw.fs.list(nab .. "/data", ".csv")) do
    local f = mw.csv(nab .. "/data/" .. name, {batch = 1 << 20})()
    local zs = mw.detect.zscore{window = 288, min_periods = 288}:run(f.value)
    runs[#runs + 1] = {name = name, score = zs / (zs + 1), time = f.timestamp, windows = L[name]}
  end
  for _, profile in ipairs{"standard", "reward_low_FP_rate", "reward_low_FN_rate"} do
    local want = string.format("%.2f", mw.nab.score(runs, {profile = profile}).score)
    check(out:match(profile .. "%s+" .. want:gsub("%.", "%%.")), "%s: %s in\n%s", profile, want, out)
  end
  check(out:find("gaussian on 41 series (64 labelled windows)", 1, true), "41 series:\n%s", out)
  -- The default pipeline keeps its promise: at least 70 (standard).
  out, rc, err = run(string.format("eval --data %q --labels %q --quiet", nab .. "/data",
                                   nab .. "/labels/combined_windows.json"))
  local standard = tonumber(out:match("standard%s+([%d.]+)"))
  check(rc == 0 and standard and standard >= 70, "default pipeline on NAB: %s\n%s", standard, out .. err)
end

-- --jobs N: the same rows, summaries and scores as one runtime, in the
-- same order; errors as with one runtime.
local function without_times(text)
  return (text:gsub(", [%d.]+ s([,\n])", "%1"):gsub(", peak memory [^\n]*", ""))
end
if nab and io.open(nab .. "/labels/combined_windows.json") then
  local data, labels = nab .. "/data", nab .. "/labels/combined_windows.json"
  local one, rc1, err1 = run(string.format("detect %q --out jobs1 --plot plots1 --labels %q", data, labels))
  local two, rc2, err2 = run(string.format("detect %q --out jobs2 --plot plots2 --labels %q --jobs 3", data, labels))
  check(rc1 == 0 and rc2 == 0, "detect --jobs: %s %s", err1, err2)
  check(without_times(one) == without_times(two), "detect --jobs 3 summaries differ:\n%s\n%s", one, two)
  check(select(2, one:gsub("\n", "")) == 42, "41 summaries and a total:\n%s", one)
  for _, name in ipairs(mw.fs.list(tmp .. "/jobs1", ".csv")) do
    check(read("jobs1/" .. name) == read("jobs2/" .. name), "detect --jobs: %s differs", name)
  end
  check(#mw.fs.list(tmp .. "/jobs2", ".csv") == 41, "41 outputs")
  check(#mw.fs.list(tmp .. "/plots2", ".svg") == 41, "41 plots")
  one, rc1 = run(string.format("eval --data %q --labels %q --results res1", data, labels))
  two, rc2, err2 = run(string.format("eval --data %q --labels %q --results res2 --jobs 2", data, labels))
  check(rc1 == 0 and rc2 == 0, "eval --jobs: %s", err2)
  local function body(text) return (text:gsub("^[^\n]*\n", ""):gsub("res%d", "res")) end
  check(body(one) == body(two), "eval --jobs 2 differs:\n%s\n%s", one, two)
  check(os.execute(string.format("diff -r %q/res1 %q/res2 >/dev/null", tmp, tmp)), "eval --results differ")
end
-- an input that fails: what came before it is reported, then the same error
assert(os.execute("mkdir -p '" .. tmp .. "/bad'"))
write("bad/a.csv", "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n")
write("bad/b.csv", "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,oops\n")
write("bad/c.csv", "timestamp,value\n2020-01-01 00:00:00,1\n")
local o1, r1, e1 = run("detect bad --pipeline gaussian --param window=2")
local o2, r2, e2 = run("detect bad --pipeline gaussian --param window=2 --jobs 2")
check(r1 == 1 and r2 == 1, "a bad input fails with and without --jobs (%s, %s)", r1, r2)
check(e1 == e2 and e1:find("b.csv", 1, true), "the same error:\n%s\n%s", e1, e2)
check(without_times(o1) == without_times(o2) and o1:find("a.csv", 1, true), "a.csv reported first:\n%s\n%s", o1, o2)
fails("detect bad --jobs 0", "--jobs '0' is not a number of runtimes in 1..256")
fails("eval --data corpus --labels labels.json --jobs many", "--jobs 'many' is not a number of runtimes in 1..256")

os.execute("rm -rf '" .. tmp .. "'")
print("commands: ok")
