-- profile.lua: mw.mem.profile charges exact allocator figures to lines.
local t = require "helper"

-- The line record of `line` in the profile's file whose name ends in
-- "profile.lua", or nil if that line never ran.
local function line_of(prof, line)
  for _, f in ipairs(prof.files) do
    if f.name:sub(-#"profile.lua") == "profile.lua" then
      for _, l in ipairs(f.lines) do
        if l.line == line then return l end
      end
    end
  end
  return nil
end

-- The current line number of the caller: tests below name the lines they
-- check by reading it, so the file can be edited freely.
local function here() return debug.getinfo(2, "l").currentline end

local function native_of(s) return s.native + s.pool end

-- What a series of 1e6 doubles costs the native heap, and what releasing
-- it gives back, measured with mw.mem.stats outside any profile.
t.fullgc()
local b0 = native_of(mw.mem.stats())
local probe = mw.series.zeros(1000000)
local b1 = native_of(mw.mem.stats())
probe:release()
local b2 = native_of(mw.mem.stats())
local freed = b1 - b2
assert(freed >= 8000000, "a release gives back at least the doubles")

local l_alloc, l_release, l_table, l_loop, l_body, l_before, l_after
local before, after
local prof, r1, r2 = mw.mem.profile(function()
  before = mw.mem.stats(); l_before = here()
  local s = mw.series.zeros(1000000); l_alloc = here()
  after = mw.mem.stats(); l_after = here()
  s:release(); l_release = here()
  local tbl = {1, 2, 3, 4, 5, 6, 7, 8}; l_table = here()
  local acc = 0; l_loop = here() + 1
  for i = 1, 10 do
    acc = acc + i; l_body = here()
  end
  return acc, #tbl
end, {quiet = true})
t.eq(r1, 55, "fn's first result")
t.eq(r2, 8, "fn's second result")

-- The series line: exactly the bytes the allocator gave to the native
-- heap between the two stats calls (Lua's side holds the stats tables and
-- the handle, so only the native column is exact by construction).
local la = assert(line_of(prof, l_alloc), "the allocating line is profiled")
t.eq(la.increment_native, native_of(after) - native_of(before),
     "increment of the series line = the allocator's native bytes")
assert(la.increment_native >= 8000000, "1e6 doubles at least")
t.eq(la.increment, la.increment_lua + la.increment_native, "total = Lua + native")
t.eq(la.occurrences, 1, "ran once")
assert(la.allocs >= 1, "allocations counted")
assert(la.peak >= la.mem_usage and la.peak >= 8000000, "peak inside the line")

-- Releasing it on the next line: the negative increment, exactly.
local lr = assert(line_of(prof, l_release))
t.eq(lr.increment_native, -freed, "release line gives back the series")
t.eq(lr.allocs, 0, "a release allocates nothing")
assert(lr.mem_usage < la.mem_usage - 7900000, "mem usage falls after the release")
t.eq(la.mem_usage, la.mem_lua + la.mem_native, "mem usage is the sum of both heaps")

-- A Lua table: charged to the Lua heap column only.
local lt = assert(line_of(prof, l_table))
assert(lt.increment_lua > 0, "a table constructor costs Lua bytes")
t.eq(lt.increment_native, 0, "and no native bytes")

-- A loop: the body line ran 10 times, the header line once more.
t.eq(line_of(prof, l_body).occurrences, 10, "loop body occurrences")
t.eq(line_of(prof, l_loop).occurrences, 11, "loop header occurrences")

-- Every byte is somewhere: the lines and `outside` add up to the change
-- of the totals, per heap.
local sum_lua, sum_native = prof.outside.increment_lua, prof.outside.increment_native
for _, f in ipairs(prof.files) do
  for _, l in ipairs(f.lines) do
    sum_lua = sum_lua + l.increment_lua
    sum_native = sum_native + l.increment_native
  end
end
t.eq(sum_lua, prof["end"].lua - prof.start.lua, "Lua increments add up")
t.eq(sum_native, prof["end"].native - prof.start.native, "native increments add up")
assert(prof.peak >= prof.start.total + 8000000, "the profile's peak")
t.eq(prof.incomplete, false, "complete")

-- A C function allocating inside a Lua function called from a line: the
-- native bytes go to the line inside the innermost Lua function.
local function make() return mw.series.zeros(1000) end
local l_make = debug.getinfo(make, "S").linedefined
local keep
prof = mw.mem.profile(function() keep = make() end, {quiet = true})
assert(line_of(prof, l_make).increment_native >= 8000, "C allocation charged to the Lua line calling it")
keep:release()

-- Coroutines created inside the profile are profiled too.
local l_co
prof = mw.mem.profile(function()
  local co = coroutine.wrap(function()
    local s = mw.series.zeros(5000); l_co = here()
    coroutine.yield(s)
  end)
  co():release()
end, {quiet = true})
assert(line_of(prof, l_co) and line_of(prof, l_co).increment_native >= 40000,
       "a coroutine's line is charged")

-- Errors: the profile is written, then the error re-raised as it was.
local tmp = os.tmpname()
local ok, err = pcall(mw.mem.profile, function()
  local s = mw.series.zeros(10)
  error({code = 7})
end, {file = tmp, format = "csv"})
t.eq(ok, false, "the error propagates")
t.eq(type(err) == "table" and err.code, 7, "the error value is kept")
local text = assert(io.open(tmp)):read("a")
assert(text:find("mw.series.zeros(10)", 1, true), "the profile of the failing fn was written")

-- CSV parses back: a header and rows of 12 fields, quoted fields intact.
local function parse_csv_line(s)
  local fields, i = {}, 1
  while i <= #s + 1 do
    if s:sub(i, i) == '"' then
      local j, buf = i + 1, {}
      while true do
        local c = s:sub(j, j)
        if c == '"' and s:sub(j + 1, j + 1) == '"' then buf[#buf + 1] = '"'; j = j + 2
        elseif c == '"' then j = j + 1; break
        elseif c == "" then error("unterminated quote")
        else buf[#buf + 1] = c; j = j + 1 end
      end
      fields[#fields + 1] = table.concat(buf)
      i = j + 1
    else
      local j = s:find(",", i, true) or #s + 1
      fields[#fields + 1] = s:sub(i, j - 1)
      i = j + 1
    end
  end
  return fields
end
prof = mw.mem.profile(function()
  local s = mw.series.zeros(100) -- "quoted", commas, too
  s:release()
end, {file = tmp, format = "csv"})
local rows = {}
for l in io.lines(tmp) do rows[#rows + 1] = parse_csv_line((l:gsub("\r$", ""))) end
t.eq(#rows[1], 12, "CSV header fields")
t.eq(rows[1][6], "increment", "CSV header")
local found = false
for k = 2, #rows do
  t.eq(#rows[k], 12, "CSV row fields")
  if rows[k][12]:find('"quoted", commas', 1, true) then
    found = true
    t.eq(tonumber(rows[k][8]), line_of(prof, tonumber(rows[k][2])).increment_native,
         "CSV figures match the table's")
  end
end
assert(found, "the quoted line contents survive CSV")

-- JSON parses with Python's json module, and has the same figures.
mw.mem.profile(function() local s = mw.series.zeros(100) s:release() end,
               {file = tmp, format = "json"})
local py = "/usr/bin/python3"
if io.open(py) then
  local cmd = py .. " -c 'import json,sys; d=json.load(open(sys.argv[1])); "
              .. "print(sum(l[\"increment\"] for f in d[\"files\"] for l in f[\"lines\"]) "
              .. "+ d[\"outside\"][\"increment\"] - (d[\"end\"][\"total\"] - d[\"start\"][\"total\"]))' "
              .. tmp
  local pipe = io.popen(cmd)
  local out = pipe:read("a")
  t.eq(pipe:close(), true, "python3 parses the JSON")
  t.eq(tonumber(out), 0, "JSON increments add up")
end
os.remove(tmp)

-- Argument checks, and no nesting.
t.raises("bad argument #1 to 'profile'", function() mw.mem.profile(42) end)
t.raises("format must be", mw.mem.profile, function() end, {format = "xml"})
t.raises("already running", mw.mem.profile, function()
  mw.mem.profile(function() end, {quiet = true})
end, {quiet = true})
-- After all that, no hook and no observer are left behind.
t.eq(debug.gethook(), nil, "the hook is removed")
prof = mw.mem.profile(function() end, {quiet = true})
t.eq(prof.incomplete, false, "a new profile can start")

-- Peak inside a line: a line that allocates 1e6 doubles and gives them
-- back shows a net increment of (about) nothing, but its peak holds the
-- series: at least the total before the line plus the doubles.
do
  local l_spike, start_total
  -- The collector stays off: a step between the two lines would free
  -- garbage and lower the total the peak is compared with.
  collectgarbage("stop")
  local p = mw.mem.profile(function()
    start_total = mw.mem.stats().total
    local s = mw.series.zeros(1000000); s:release(); l_spike = here()
  end, {quiet = true})
  collectgarbage("restart")
  local ls = assert(line_of(p, l_spike), "the spike line is profiled")
  assert(math.abs(ls.increment_native) < 65536,
         "the spike's net native increment is small: " .. ls.increment_native)
  assert(ls.peak >= start_total + 8000000,
         "the peak inside the line holds the series: " .. ls.peak .. " vs " .. start_total)
  assert(p.peak >= ls.peak, "the profile's peak is at least the line's")
end
