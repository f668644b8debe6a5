-- commands.lua: `moonwatch detect`, `eval` and `worker`, built into the
-- command (tools/embed.c). Called with the command's name and a table of
-- the command's built-in files; the built-in pipelines come from the
-- library (package.preload["moonwatch.pipelines.<name>"]). The arguments
-- after the command's name are in `arg` (1..n). Returns the exit status.
--
-- Errors a user can fix (a bad option, a missing file, a malformed row)
-- are reported as "moonwatch detect: message" without a traceback; rows
-- already written stay written.
local command, embedded = ...
local prog = "moonwatch " .. command

local USAGE = {
  detect = [[
usage: moonwatch detect [options] [input ...]

Scores every row of each input (a CSV file, a directory of them, or - for
standard input; standard input when none is given) with a pipeline or a
detector, and writes timestamp,value,score,anomaly rows.

  --pipeline NAME|FILE   a pipeline: built in (default, gaussian) or a Lua
                         file returning one (default: default)
  --detector KIND        a single detector instead (mw.detect.<KIND>);
                         anomaly when its score >= --threshold (default 3)
  --param NAME=VALUE     a parameter of the pipeline or detector (repeat)
  --threshold X          the score that makes an anomaly (default: the
                         pipeline's own)
  --column NAME          the value column (default: value, or the first
                         column that is not the time column)
  --columns A,B,...      with a multivariate detector (hst, iforest, ...):
                         the columns of a row (default: all but the time)
  --time-column NAME     the time column (default: timestamp, time, date
                         or ts if present; else rows are numbered)
  --out FILE|DIR         where the rows go (default: standard output);
                         a directory for several inputs
  --plot FILE|DIR        an SVG chart of values, scores and anomalies
  --labels FILE          NAB-style labelled windows to shade in the plot
  --jobs N               score N inputs at once, each in a runtime of its
                         own on a thread (default 1; the output is the
                         same, in the same order)
  --quiet                no summary
  -h, --help             this text
]],
  eval = [[
usage: moonwatch eval --data DIR --labels FILE [options]

Runs a pipeline over every CSV file under DIR and scores the detections
as the Numenta Anomaly Benchmark does (one threshold per profile for the
whole corpus, chosen to maximise the score; normalised so that a
detector that never fires scores 0 and a perfect one 100).

  --data DIR             the series: DIR/<category>/<name>.csv
  --labels FILE          NAB's combined_windows.json
  --pipeline NAME|FILE   the pipeline (default: default)
  --detector KIND        a single detector instead of a pipeline
  --param NAME=VALUE     a parameter of the pipeline or detector (repeat)
  --profile NAME         standard, reward_low_FP_rate, reward_low_FN_rate
                         or all (default: all)
  --results DIR          also write results in NAB's layout:
                         DIR/<detector>/<category>/<detector>_<name>.csv
  --name NAME            the detector's name in those files (default:
                         the pipeline's name)
  --jobs N               run the pipeline on N series at once, each in a
                         runtime of its own on a thread (default 1; the
                         scores are the same)
  --quiet                only the scores, no per-file table
  -h, --help             this text
]],
  worker = [[
usage: moonwatch worker --stream KEY --group G --consumer NAME [options]

One worker of a group scoring Redis streams (docs/scaling.md): series s
is read from the stream KEY:<shard of s> (mw.redis.shard(s, --shards)),
entries with fields series, value and optionally ts; each series gets its
own pipeline, checkpointed into Redis, and what is found goes to the
output stream. Workers of one group share the shards and take over those
of a worker that stops.

  --redis HOST:PORT      the server (default 127.0.0.1:6379)
  --stream KEY           the input streams' prefix: KEY:0 .. KEY:<n-1>
  --group G              the consumer group (created if missing)
  --consumer NAME        this worker's name, unique in the group
  --pipeline NAME|FILE   the pipeline (default: default); it must save
  --param NAME=VALUE     a parameter of the pipeline (repeat)
  --out-stream KEY2      where outputs go (default: KEY:out): fields
                         series, id, ts, value, score, anomaly
  --dead-stream KEY3     where malformed entries go (default: KEY2:dead)
  --scores               write every entry's score, not only anomalies
  --shards N             input streams (default 16; the same for all
                         workers and producers)
  --count N              entries per read and shard (default 500)
  --block MS             how long a read waits (default 500)
  --lease SECONDS        a stopped worker's shards move after this
                         (default 10)
  --checkpoint-every N   entries of a shard between checkpoints
                         (default 10000)
  --checkpoint-interval S  ... or seconds (default 10)
  --trim                 trim input entries a checkpoint covers
  --retry SECONDS        how long to retry a lost connection (default 300)
  --idle-exit SECONDS    stop after this long without entries, once all
                         shards are drained (default: run until killed)
  --quiet                no summary
  -h, --help             this text
]],
}

-- A user error: reported without a traceback.
local UserError = {}
UserError.__index = UserError
local function fail(fmt, ...)
  error(setmetatable({msg = string.format(fmt, ...)}, UserError), 0)
end
local function usage_fail(fmt, ...)
  error(setmetatable({msg = string.format(fmt, ...), usage = true}, UserError), 0)
end

-- Calls f, turning a library error (a missing file, a malformed label
-- file) into a user error without a traceback or a position.
-- --jobs N: an integer >= 1 (1 when not given).
local function jobs_of(opts)
  if opts.jobs == nil then return 1 end
  local n = math.tointeger(tonumber(opts.jobs))
  if not n or n < 1 or n > 256 then usage_fail("--jobs '%s' is not a number of runtimes in 1..256", opts.jobs) end
  return n
end

local function try(f, ...)
  local res = table.pack(pcall(f, ...))
  if not res[1] then
    if getmetatable(res[2]) == UserError then error(res[2], 0) end
    fail("%s", (tostring(res[2]):gsub("^%(moonwatch commands%):%d+: ", "")))
  end
  return table.unpack(res, 2, res.n)
end

-- Options: spec[name] = "value" | "list" | "flag".
local function parse_args(argv, spec)
  local opts, inputs = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do inputs[#inputs + 1] = argv[j] end
      break
    elseif a == "-h" or a == "--help" then
      opts.help = true
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local kind = spec[name]
      if kind == nil then usage_fail("unknown option '--%s'", name) end
      if kind == "flag" then
        if value then usage_fail("option '--%s' takes no value", name) end
        opts[name] = true
      else
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then usage_fail("option '--%s' needs a value", name) end
        end
        if kind == "list" then
          opts[name] = opts[name] or {}
          table.insert(opts[name], value)
        else
          opts[name] = value
        end
      end
    elseif a ~= "-" and a:sub(1, 1) == "-" then
      usage_fail("unknown option '%s'", a)
    else
      inputs[#inputs + 1] = a
    end
    i = i + 1
  end
  return opts, inputs
end

local pipeline = require "moonwatch.pipeline"

local function params_of(opts)
  local params, order = {}, {}
  for _, text in ipairs(opts.param or {}) do
    local name, value = pipeline.parse_param(text)
    if not name then usage_fail("--param %s", value) end
    if params[name] == nil then order[#order + 1] = name end
    params[name] = value
  end
  return params, order
end

-- Runs fn(...) and turns its error into the command's one-line failure.
local function or_fail(fn, ...)
  local ok, result = pcall(fn, ...)
  if not ok then fail("%s", tostring(result)) end
  return result
end

-- A pipeline maker: returns a function making a fresh pipeline per
-- series, and the name to show.
local function pipeline_maker(opts)
  local params, order = params_of(opts)
  if opts.detector then
    if opts.pipeline then usage_fail("give --pipeline or --detector, not both") end
    local kind = opts.detector
    if not mw.detect[kind] or type(mw.detect[kind]) ~= "function" or kind == "load" or kind == "chain"
       or kind == "info" then
      fail("no detector '%s'; the kinds are %s", kind, table.concat(mw.detect.names, ", "))
    end
    local ok, probe = pcall(mw.detect[kind], params)
    if not ok then fail("%s", tostring(probe):gsub("^bad argument #1 to '[^']*' %((.*)%)$", "%1")) end
    probe:release()
    local threshold = 3
    local multi = mw.detect.info(kind).rows
    if opts.columns and not multi then
      usage_fail("--columns goes with a multivariate --detector; %s scores one value column (--column)", kind)
    end
    return function()
      local d = mw.detect[kind](params)
      return {
        threshold = threshold,
        run = function(_, values, _, rows)
          if multi then return d:run(rows) end
          return d:run(values)
        end,
        release = function() d:release() end,
      }
    end, kind, multi
  end
  if opts.columns then usage_fail("--columns goes with a multivariate --detector (rows of several columns)") end
  local def = or_fail(pipeline.load, opts.pipeline or "default")
  local merged = or_fail(pipeline.configure, def, params, order)
  return function() return or_fail(pipeline.make, def, merged) end, def.name
end

-- The time and value columns of a frame.
local TIME_NAMES = {"timestamp", "time", "date", "ts", "datetime"}
local function pick_columns(frame, opts, source)
  local names = frame:columns()
  local has = {}
  for _, n in ipairs(names) do has[n] = true end
  -- Without a header the columns are numbered: "--column 2" names one.
  local function named(n)
    if n == nil or has[n] then return n end
    return has[math.tointeger(tonumber(n))] and math.tointeger(tonumber(n)) or n
  end
  local time = named(opts["time-column"])
  if time and not has[time] then
    fail("%s: no time column '%s' (columns: %s)", source, time, table.concat(names, ", "))
  end
  if not time then
    for _, n in ipairs(TIME_NAMES) do if has[n] then time = n; break end end
  end
  local value = named(opts.column)
  if value and not has[value] then
    fail("%s: no column '%s' (numeric columns: %s)", source, value, table.concat(names, ", "))
  end
  if not value then
    if has.value then
      value = "value"
    else
      for _, n in ipairs(names) do if n ~= time then value = n; break end end
    end
  end
  if not value then fail("%s: no numeric column to score", source) end
  return value, time
end

local function fmt_bytes(n)
  if n >= 1 << 30 then return string.format("%.1f GiB", n / (1 << 30)) end
  if n >= 1 << 20 then return string.format("%.1f MiB", n / (1 << 20)) end
  if n >= 1 << 10 then return string.format("%.1f KiB", n / (1 << 10)) end
  return string.format("%d B", n)
end

local function fmt_num(x)
  if x ~= x then return "" end
  return string.format("%.14g", x)
end

local function fmt_score(x)
  if x ~= x then return "" end
  return string.format("%.6g", x)
end

-- The inputs of `detect`: {path, label, rel} with "-" for standard input.
local function expand_inputs(inputs)
  local list = {}
  if #inputs == 0 then inputs = {"-"} end
  for _, path in ipairs(inputs) do
    if path ~= "-" and mw.fs.isdir(path) then
      local files = mw.fs.list(path, ".csv")
      if #files == 0 then fail("no .csv files under '%s'", path) end
      for _, rel in ipairs(files) do
        list[#list + 1] = {path = path:gsub("/$", "") .. "/" .. rel, rel = rel}
      end
    else
      list[#list + 1] = {path = path, rel = path == "-" and "stdin.csv" or path:match("[^/]+$")}
    end
  end
  return list
end

local function join(dir, rel) return dir:gsub("/$", "") .. "/" .. rel end

local function ensure_parent(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then mw.fs.mkdir(dir) end
end

local function open_out(path)
  ensure_parent(path)
  local fh, err = io.open(path, "w")
  if not fh then fail("cannot write '%s': %s", path, err) end
  return fh
end

-- Labelled windows of a file, by its path relative to the labels' root.
local function windows_for(labels, rel, path)
  if not labels then return nil end
  if labels[rel] then return labels[rel] end
  -- The longest key that is the path or ends it at a '/' (labels keyed
  -- by category/name match data/category/name.csv).
  local best
  for key in pairs(labels) do
    if (path == key or path:sub(-#key - 1) == "/" .. key) and (not best or #key > #best) then
      best = key
    end
  end
  return best and labels[best] or nil
end

-- Scores one input: streams it in batches through the pipeline, writes
-- the rows, and keeps what the plot needs. Returns a summary.
local function detect_one(input, opts, make, out, plot_path, labels, multi)
  local t0 = mw.time.now()
  local p = make()
  local threshold = tonumber(opts.threshold) or p.threshold or 0.5
  local rows, anomalies, first = 0, 0, nil
  local keep = plot_path and {time = {}, value = {}, score = {}, flags = {}} or nil
  local has_time = false
  local ok, err = pcall(function()
    local value_col, time_col, row_cols
    for batch in mw.csv(input.path, {batch = 65536, progress = false}) do
      if not value_col then
        value_col, time_col = pick_columns(batch, opts, input.path)
        if multi then
          -- Rows of several columns: those named, or all but the time.
          row_cols = {}
          local has = {}
          for _, c in ipairs(batch:columns()) do has[c] = true end
          if opts.columns then
            for c in opts.columns:gmatch("[^,]+") do
              if not has[c] then
                fail("%s: no column '%s' (columns: %s)", input.path, c, table.concat(batch:columns(), ", "))
              end
              row_cols[#row_cols + 1] = c
            end
          else
            for _, c in ipairs(batch:columns()) do
              if c ~= time_col then row_cols[#row_cols + 1] = c end
            end
          end
          value_col = row_cols[1]
        end
        if out then
          out:write("timestamp,", row_cols and table.concat(row_cols, ",") or "value", ",score,anomaly\n")
        end
      end
      local values = batch[value_col]
      local time = time_col and batch[time_col] or nil
      local rows_frame = row_cols and batch:select(row_cols) or nil
      local row_values = row_cols and {} or nil
      if row_cols then
        for k, c in ipairs(row_cols) do row_values[k] = batch[c] end
      end
      local scores, flags = p:run(values, time, rows_frame)
      if rows_frame then rows_frame:release() end
      if not scores or #scores ~= #values then
        fail("pipeline gave %s scores for %d values", scores and #scores or "no", #values)
      end
      local buf = {}
      for i = 1, #values do
        local s = scores[i]
        local a
        if flags then a = flags[i] ~= 0 and flags[i] == flags[i] else a = s >= threshold end
        local row = rows + i
        if a then
          anomalies = anomalies + 1
          first = first or (time and mw.time.format(time[i]) or tostring(row))
        end
        if out then
          local shown
          if row_values then
            local parts = {}
            for k = 1, #row_values do parts[k] = fmt_num(row_values[k][i]) end
            shown = table.concat(parts, ",")
          else
            shown = fmt_num(values[i])
          end
          buf[#buf + 1] = (time and mw.time.format(time[i]) or tostring(row)) .. "," .. shown ..
                          "," .. fmt_score(s) .. "," .. (a and "1" or "0")
          if #buf == 4096 then
            buf[#buf + 1] = ""
            out:write(table.concat(buf, "\n"))
            buf = {}
          end
        end
        if keep then
          local k = #keep.value + 1
          keep.time[k] = time and time[i] or row
          has_time = time ~= nil
          keep.value[k], keep.score[k], keep.flags[k] = values[i], s, a and 1 or 0
        end
      end
      if out and #buf > 0 then
        buf[#buf + 1] = ""
        out:write(table.concat(buf, "\n"))
      end
      -- Each batch out as soon as it is scored: from a pipe a batch is
      -- what has arrived (tail -f).
      if out then out:flush() end
      rows = rows + #values
      if scores.release then scores:release() end   -- a pipeline may return a Lua table
      if flags and flags.release then flags:release() end
      batch:release()
    end
  end)
  if p.release then p:release() end
  if not ok then
    if getmetatable(err) == UserError then err = err.msg end
    err = tostring(err):gsub("^%(moonwatch commands%):%d+: ", "")
    local where = input.path == "-" and "stdin" or input.path
    if err:find(where, 1, true) then where = nil end   -- the reader names the file itself
    fail("%s%s%s", where and where .. ": " or "", err,
         rows > 0 and string.format(" (after %d rows, written)", rows) or "")
  end
  if keep and rows > 0 then
    local windows = windows_for(labels, input.rel, input.path)
    local okp, perr = pcall(mw.plot.svg, {
      time = has_time and keep.time or nil, value = keep.value, score = keep.score, anomalies = keep.flags,
      threshold = threshold, windows = windows, file = plot_path,
      title = input.path == "-" and "stdin" or input.path,
    })
    if not okp then fail("%s", tostring(perr)) end
  end
  return {rows = rows, anomalies = anomalies, first = first, seconds = mw.time.now() - t0}
end

local function cmd_detect(argv)
  local opts, inputs = parse_args(argv, {
    pipeline = "value", detector = "value", param = "list", threshold = "value",
    column = "value", ["time-column"] = "value", out = "value", plot = "value", columns = "value",
    labels = "value", quiet = "flag", jobs = "value",
  })
  if opts.help then io.write(USAGE.detect); return 0 end
  if opts.threshold and not tonumber(opts.threshold) then
    usage_fail("--threshold '%s' is not a number", opts.threshold)
  end
  local jobs = jobs_of(opts)
  local make, name, multi = pipeline_maker(opts)
  local list = expand_inputs(inputs)
  local many = #list > 1
  if many and opts.out and not mw.fs.isdir(opts.out) and opts.out:match("%.csv$") then
    usage_fail("--out '%s' is a file, but there are %d inputs: give a directory", opts.out, #list)
  end
  if many and opts.plot and opts.plot:match("%.svg$") then
    usage_fail("--plot '%s' is a file, but there are %d inputs: give a directory", opts.plot, #list)
  end
  local labels = opts.labels and try(mw.nab.labels, opts.labels) or nil
  -- The summary goes to stderr when the rows go to stdout.
  local say = (opts.out or many) and io.stdout or io.stderr
  mw.mem.resetpeak()
  local total = {rows = 0, anomalies = 0, seconds = 0}
  local function summary(input, r)
    total.rows, total.anomalies = total.rows + r.rows, total.anomalies + r.anomalies
    total.seconds = total.seconds + r.seconds
    if not opts.quiet then
      say:write(string.format("%s: %d rows, %d anomalies%s, %.3f s\n",
                              input.path == "-" and "stdin" or input.path, r.rows, r.anomalies,
                              r.first and (" (first at " .. r.first .. ")") or "", r.seconds))
    end
  end
  local stdin = false
  for _, input in ipairs(list) do stdin = stdin or input.path == "-" end
  local workers_peak = 0
  if jobs > 1 and many and not stdin then
    -- Each input in a runtime of its own (detect_input below, in the
    -- worker); the summaries and any rows in the inputs' order.
    local results, errors, stats = mw.parallel.map(jobs, embedded.commands, list,
      {args = {"__worker", {command = "detect", argv = argv}}, name = "(moonwatch commands)"})
    workers_peak = stats.peak
    for i, input in ipairs(list) do
      local r = results[i]
      if errors and errors[i] then
        local e = errors[i]
        if type(e) == "table" and e.msg then fail("%s", e.msg) end
        error(e, 0)
      end
      if not r then fail("%s: not scored (an earlier input failed)", input.path) end
      summary(input, r)
    end
  else
    for _, input in ipairs(list) do
      local out
      if opts.out then
        out = open_out(many and join(opts.out, input.rel) or opts.out)
      elseif not many then
        out = io.stdout
      end
      local plot = opts.plot and (many and join(opts.plot, input.rel:gsub("%.csv$", "") .. ".svg") or opts.plot)
      if plot then ensure_parent(plot) end
      local ok, r = pcall(detect_one, input, opts, make, out, plot, labels, multi)
      if out and out ~= io.stdout then out:close() end
      if not ok then error(r, 0) end
      summary(input, r)
    end
  end
  if not opts.quiet then
    local stats = mw.mem.stats()
    say:write(string.format("%s%s: %d rows, %d anomalies, %.3f s, peak memory %s\n",
                            many and "total " or "", name, total.rows, total.anomalies,
                            total.seconds, fmt_bytes(stats.peak + workers_peak)))
  end
  return 0
end

-- Reads a whole CSV file as one value series and one time series.
local function read_series(path, opts)
  local values, times, n = {}, {}, 0
  local value_col, time_col
  for batch in mw.csv(path, {batch = 65536, progress = false}) do
    if not value_col then
      value_col, time_col = pick_columns(batch, opts, path)
      if not time_col then fail("%s: no time column (NAB series have 'timestamp')", path) end
    end
    values[#values + 1], times[#times + 1] = batch[value_col], batch[time_col]
    n = n + #batch[value_col]
  end
  if #values == 1 then return values[1], times[1], n end
  local v, t = mw.series.zeros(n), mw.series.zeros(n)
  local k = 0
  for b = 1, #values do
    for i = 1, #values[b] do
      v[k + i], t[k + i] = values[b][i], times[b][i]
    end
    k = k + #values[b]
  end
  return v, t, n
end

-- Writes run r (name, score, time, windows) of values in NAB's layout
-- under --results: <results>/<detector>/<category>/<detector>_<file>.
local function write_results(opts, name, r, values)
  local category, base = r.name:match("^(.*)/([^/]+)$")
  category, base = category or ".", base or r.name
  local path = join(join(join(opts.results, name), category), name .. "_" .. base)
  local out = open_out(path)
  out:write("timestamp,value,anomaly_score,label\n")
  local w, wi = r.windows, 1
  local buf = {}
  for i = 1, #values do
    local t = r.time[i]
    while w[wi] and t > w[wi][2] do wi = wi + 1 end
    local label = w[wi] and t >= w[wi][1] and t <= w[wi][2] and 1 or 0
    local s = r.score[i]
    buf[#buf + 1] = string.format("%s,%s,%s,%d", mw.time.format(t), fmt_num(values[i]),
                                  s == s and fmt_score(s) or "0", label)
  end
  buf[#buf + 1] = ""
  out:write(table.concat(buf, "\n"))
  out:close()
end

-- Runs a fresh pipeline of make over the series DIR/rel: its values,
-- times and scores.
local function eval_series(opts, make, rel)
  local path = join(opts.data, rel)
  local values, time = try(read_series, path, opts)
  local p = make()
  local ok, scores = pcall(p.run, p, values, time)
  if p.release then p:release() end
  if not ok then
    if getmetatable(scores) == UserError then scores = scores.msg end
    fail("%s: %s", path, tostring(scores))
  end
  if #scores ~= #values then fail("%s: the pipeline gave %d scores for %d values", path, #scores, #values) end
  return values, time, scores
end

local PROFILES = {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}

local function cmd_eval(argv)
  local opts, rest = parse_args(argv, {
    data = "value", labels = "value", pipeline = "value", detector = "value", param = "list",
    profile = "value", results = "value", name = "value", quiet = "flag",
    column = "value", ["time-column"] = "value", jobs = "value",
  })
  if opts.help then io.write(USAGE.eval); return 0 end
  if #rest > 0 then usage_fail("unexpected argument '%s' (the series go in --data DIR)", rest[1]) end
  if not opts.data then usage_fail("--data DIR is required") end
  if not opts.labels then usage_fail("--labels FILE is required") end
  if not mw.fs.isdir(opts.data) then fail("--data '%s' is not a directory", opts.data) end
  local profiles = PROFILES
  if opts.profile and opts.profile ~= "all" then
    if not mw.nab.profiles[opts.profile] then
      usage_fail("unknown profile '%s': standard, reward_low_FP_rate, reward_low_FN_rate or all",
                 opts.profile)
    end
    profiles = {opts.profile}
  end
  local jobs = jobs_of(opts)
  local make, name, multi = pipeline_maker(opts)
  if multi then
    usage_fail("eval scores one value column per series; %s scores rows of several", opts.detector)
  end
  name = opts.name or name
  local labels = try(mw.nab.labels, opts.labels)
  local files = mw.fs.list(opts.data, ".csv")
  local runs, inputs, skipped = {}, {}, {}
  mw.mem.resetpeak()
  local t0 = mw.time.now()
  local todo = {}
  for _, rel in ipairs(files) do
    if labels[rel] then todo[#todo + 1] = rel else skipped[#skipped + 1] = rel end
  end
  local workers_peak = 0
  if jobs > 1 and #todo > 1 then
    -- Each series in a runtime of its own (eval_series below, in the
    -- worker); the scores come back as copies, in the files' order.
    local results, errors, stats = mw.parallel.map(jobs, embedded.commands, todo,
      {args = {"__worker", {command = "eval", argv = argv}}, name = "(moonwatch commands)"})
    workers_peak = stats.peak
    for i, rel in ipairs(todo) do
      if errors and errors[i] then
        local e = errors[i]
        if type(e) == "table" and e.msg then fail("%s", e.msg) end
        error(e, 0)
      end
      local r = results[i]
      if not r then fail("%s: not scored (an earlier series failed)", join(opts.data, rel)) end
      runs[#runs + 1] = {name = rel, score = r.score, time = r.time, windows = labels[rel]}
      inputs[#runs] = r.values    -- nil when the runtime wrote the results file itself
    end
  else
    for _, rel in ipairs(todo) do
      local values, time, scores = eval_series(opts, make, rel)
      runs[#runs + 1] = {name = rel, score = scores, time = time, windows = labels[rel]}
      inputs[#runs] = values
    end
  end
  local run_seconds = mw.time.now() - t0
  if #runs == 0 then fail("no file under '%s' has labels in '%s'", opts.data, opts.labels) end
  local missing = {}
  for rel in pairs(labels) do
    local found = false
    for _, r in ipairs(runs) do if r.name == rel then found = true; break end end
    if not found then missing[#missing + 1] = rel end
  end
  local results = {}
  for _, profile in ipairs(profiles) do
    local ok, r = pcall(mw.nab.score, runs, {profile = profile})
    if not ok then fail("%s", tostring(r)) end
    results[profile] = r
  end
  local seconds = mw.time.now() - t0
  local main = results.standard or results[profiles[1]]

  print(string.format("%s on %d series (%d labelled windows), %.2f s (pipeline %.2f s), peak memory %s",
                      name, #runs, main.labelled, seconds, run_seconds,
                      fmt_bytes(mw.mem.stats().peak + workers_peak)))
  if #skipped > 0 then
    io.stderr:write(string.format("%s: %d files without labels skipped: %s\n", prog, #skipped,
                                  table.concat(skipped, ", ")))
  end
  if #missing > 0 then
    table.sort(missing)
    io.stderr:write(string.format("%s: %d labelled files not under '%s': %s\n", prog, #missing,
                                  opts.data, table.concat(missing, ", ")))
  end
  print()
  print(string.format("%-20s %8s %10s %4s %4s %5s", "profile", "score", "threshold", "TP", "FN", "FP"))
  for _, profile in ipairs(profiles) do
    local r = results[profile]
    print(string.format("%-20s %8.2f %10.4g %4d %4d %5d", profile, r.score or 0 / 0, r.threshold,
                        r.tp, r.fn, r.fp))
  end
  if not opts.quiet then
    print()
    print(string.format("per file, at the %s threshold (%.4g):", main.profile, main.threshold))
    print(string.format("%-58s %6s %4s %4s %4s %5s %8s", "file", "rows", "win", "TP", "FN", "FP", "score"))
    for _, f in ipairs(main.files) do
      print(string.format("%-58s %6d %4d %4d %4d %5d %8.3f", f.name, f.rows, f.windows, f.tp, f.fn, f.fp, f.raw))
    end
  end
  if opts.results then
    for k, r in ipairs(runs) do
      if inputs[k] then write_results(opts, name, r, inputs[k]) end
    end
    print(string.format("\nresults in NAB's layout under %s/%s/", opts.results:gsub("/$", ""), name))
  end
  for k, r in ipairs(runs) do
    r.score:release(); r.time:release()
    if inputs[k] then inputs[k]:release() end
  end
  return 0
end

-- {=============================================================-- A runtime of --jobs: mw.parallel.map runs this file in each with
-- ("__worker", {command =, argv =}); it returns the function that takes
-- one input (detect: {path, rel}; eval: a file name under --data) and
-- returns what the command's own loop would have computed for it. The
-- options are parsed again from the same words, so the runtimes judge
-- exactly as the main one would. Errors are the same UserError tables
-- (they cross as plain tables: the caller looks at .msg).
if command == "__worker" then
  local job = embedded
  if job.command == "detect" then
    local opts = parse_args(job.argv, {
      pipeline = "value", detector = "value", param = "list", threshold = "value",
      column = "value", ["time-column"] = "value", out = "value", plot = "value", columns = "value",
      labels = "value", quiet = "flag", jobs = "value",
    })
    local make, _, multi = pipeline_maker(opts)
    local labels = opts.labels and try(mw.nab.labels, opts.labels) or nil
    return function(input)
      local out = opts.out and open_out(join(opts.out, input.rel)) or nil
      local plot = opts.plot and join(opts.plot, input.rel:gsub("%.csv$", "") .. ".svg")
      if plot then ensure_parent(plot) end
      local ok, r = pcall(detect_one, input, opts, make, out, plot, labels, multi)
      if out then out:close() end
      if not ok then error(r, 0) end
      return r
    end
  end
  local opts = parse_args(job.argv, {
    data = "value", labels = "value", pipeline = "value", detector = "value", param = "list",
    profile = "value", results = "value", name = "value", quiet = "flag",
    column = "value", ["time-column"] = "value", jobs = "value",
  })
  local make, name = pipeline_maker(opts)
  name = opts.name or name
  local labels = opts.results and try(mw.nab.labels, opts.labels) or nil
  return function(rel)
    local values, time, scores = eval_series(opts, make, rel)
    if labels then
      -- the results file here, in parallel, rather than in the caller
      write_results(opts, name, {name = rel, score = scores, time = time, windows = labels[rel]}, values)
      return {time = time, score = scores, written = true}
    end
    return {values = values, time = time, score = scores}
  end
end
-- }====================================================================

-- `moonwatch worker`: the options into moonwatch.worker's run.
local function cmd_worker(argv)
  local opts, rest = parse_args(argv, {
    redis = "value", stream = "value", group = "value", consumer = "value", pipeline = "value",
    param = "list", ["out-stream"] = "value", ["dead-stream"] = "value", scores = "flag",
    shards = "value", count = "value", block = "value", lease = "value",
    ["checkpoint-every"] = "value", ["checkpoint-interval"] = "value", trim = "flag",
    retry = "value", ["idle-exit"] = "value", quiet = "flag",
  })
  if opts.help then io.write(USAGE.worker); return 0 end
  if #rest > 0 then usage_fail("unexpected argument '%s'", rest[1]) end
  if not mw.redis.available then
    fail("this build of moonwatch has no Redis support (built without hiredis)")
  end
  for _, name in ipairs{"stream", "group", "consumer"} do
    if not opts[name] then usage_fail("--%s is required", name) end
  end
  local host, port = "127.0.0.1", 6379
  if opts.redis then
    local h, p = opts.redis:match("^%[(.+)%]:(%d+)$")
    if not h then h, p = opts.redis:match("^([^:]+):(%d+)$") end
    if not h then h = opts.redis:match("^([^:]+)$") end
    if not h then usage_fail("--redis '%s' is not HOST:PORT", opts.redis) end
    host, port = h, math.tointeger(tonumber(p)) or 6379
  end
  local function number(name, integer, min)
    local text = opts[name]
    if text == nil then return nil end
    local x = tonumber(text)
    if not x or (integer and math.type(math.tointeger(x)) ~= "integer") or x < min then
      usage_fail("--%s '%s' must be %s >= %s", name, text, integer and "an integer" or "a number", min)
    end
    return integer and math.tointeger(x) or x
  end
  local params = {}
  for _, text in ipairs(opts.param or {}) do
    if not pipeline.parse_param(text) then usage_fail("--param '%s' is not NAME=VALUE", text) end
    params[#params + 1] = text
  end
  local worker = require "moonwatch.worker"
  local stats = try(worker.run, {
    host = host, port = port, stream = opts.stream, group = opts.group, consumer = opts.consumer,
    pipeline = opts.pipeline, params = table.concat(params, ","), out_stream = opts["out-stream"],
    dead_stream = opts["dead-stream"], scores = opts.scores or false, trim = opts.trim or false,
    shards = number("shards", true, 1), count = number("count", true, 1),
    block = number("block", true, 1), lease = number("lease", false, 0.1),
    checkpoint_every = number("checkpoint-every", true, 1),
    checkpoint_interval = number("checkpoint-interval", false, 0),
    retry = number("retry", false, 0), idle_exit = number("idle-exit", false, 0),
  })
  if not opts.quiet then
    io.stderr:write(string.format(
      "%s: %s: %d entries scored, %d anomalies, %d outputs, %d dead letters, %d replayed, " ..
      "%d shards taken, %d checkpoints, %d reconnects, %.2f s (%.0f entries/s)\n",
      prog, opts.consumer, stats.entries, stats.anomalies, stats.outputs, stats.dead, stats.replayed,
      stats.takeovers, stats.checkpoints, stats.reconnects, stats.seconds,
      stats.entries / math.max(stats.seconds, 1e-9)))
  end
  return 0
end

local commands = {detect = cmd_detect, eval = cmd_eval, worker = cmd_worker}
local argv = {}
for i = 1, #arg do argv[i] = arg[i] end
local ok, status = xpcall(commands[command], function(e)
  if getmetatable(e) == UserError then return e end
  return debug.traceback(tostring(e), 2)
end, argv)
if ok then return status end
if getmetatable(status) == UserError then
  io.stderr:write(prog, ": ", status.msg, "\n")
  if status.usage then io.stderr:write("Try '", prog, " --help'.\n") end
  return status.usage and 2 or 1
end
io.stderr:write(prog, ": ", tostring(status), "\n")
return 1
