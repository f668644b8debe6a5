-- csv.lua: mw.csv from Lua: records and batches, headers, selection,
-- delimiters, errors naming file, line and column, skipping, early
-- release, standard input, and every NAB file against a plain Lua parser.
local t = require "helper"

local tmp = os.tmpname()
local function write(text)
  local f = assert(io.open(tmp, "wb"))
  f:write(text)
  f:close()
  return tmp
end
local function records(path, opts)
  local out = {}
  for r in mw.csv(path, opts) do out[#out + 1] = r end
  return out
end

-- Records: kinds inferred (numbers, timestamps as epoch ms, strings).
local r = records(write("ts,value,host\n2024-01-01 00:00:00,1.5,a\n2024-01-01T00:01:00Z,NA,\"b,c\"\n"))
t.eq(#r, 2, "two rows")
t.eq(r[1].ts, 1704067200000, "timestamp as epoch ms")
t.eq(math.type(r[1].ts), "integer", "an integer")
t.eq(r[1].value, 1.5, "number")
t.eq(r[1].host, "a", "string")
assert(r[2].value ~= r[2].value, "missing value is NaN")
t.eq(r[2].host, "b,c", "quoted field with a comma")
t.eq(r[2].ts, 1704067260000, "ISO-8601 with Z")

-- No header: positions; header forced; delimiter; columns.
r = records(write("1;2\n3;4\n"), {header = false})
t.eq(r[2][2], 4, "no header: positions, detected ';'")
r = records(write("a|b\n1|2\n"), {delimiter = "|", columns = {"b"}})
t.eq(r[1].b, 2, "selected by name"); t.eq(r[1].a, nil, "others left out")
r = records(write("a,b,c\n1,2,3\n"), {columns = {3, 1}})
t.eq(r[1].c, 3, "selected by position"); t.eq(r[1].a, 1, "second selection")
t.raises("no column 'zzz'", function() records(write("a,b\n1,2\n"), {columns = {"zzz"}}) end)
t.raises("unknown option 'delimeter'", function() mw.csv(tmp, {delimeter = ";"}) end)
t.raises("delimiter must be one character", function() mw.csv(tmp, {delimiter = ";;"}) end)

-- Errors name the file, the line and the column; rows before stay delivered.
local got = {}
local ok, err = pcall(function()
  for row in mw.csv(write("a,b\n1,2\n3,4\n5\n7,8\n")) do got[#got + 1] = row.a end
end)
t.eq(ok, false, "wrong field count raises")
assert(err:find(tmp .. ":4: expected 2 fields, found 1", 1, true), err)
t.eq(#got, 2, "rows before the error were delivered")
ok, err = pcall(records, write("a,b\n1,2\n3,x\n"))
assert(not ok and err:find(tmp .. ":3: column 'b' (2): not a number: 'x'", 1, true), err)
ok, err = pcall(records, write("a,b\n1,\"2\n"))
assert(not ok and err:find("line 2, column 3", 1, true) and err:find(tmp, 1, true), err)

-- on_error = "skip": counted and skipped.
local it = mw.csv(write("a,b\n1,2\n3\n5,x\n7,8\n"), {on_error = "skip"})
local kept = {}
for row in it do kept[#kept + 1] = row.a end
t.eq(table.concat(kept, ","), "1,7", "bad rows skipped")
t.eq(it:errors(), 2, "and counted")

-- Batches: frames of up to n rows; string columns left out.
local sizes, sum = {}, 0
for b in mw.csv(write("t,v,s\n" .. string.rep("2024-01-01,1,x\n", 10)), {batch = 4}) do
  sizes[#sizes + 1] = #b
  sum = sum + b.v:sum()
  t.eq(b.s, nil, "string column not in frames")
end
t.eq(table.concat(sizes, ","), "4,4,2", "batch sizes")
t.eq(sum, 10, "batch values")
ok, err = pcall(function() for _ in mw.csv(write("a\n1\nx\n"), {batch = 10}) do end end)
assert(not ok and err:find(":3: column 'a' (1): not a number", 1, true), err)

-- Missing files, directories.
t.raises("cannot open '/nonexistent/x.csv': No such file or directory", function() mw.csv("/nonexistent/x.csv") end)
t.raises("it is a directory", function() mw.csv("/tmp") end)

-- Early release: <close> closes the file at a break.
local pid do local s = assert(io.open("/proc/self/stat")); pid = s:read("n"); s:close() end
-- The descriptors of this process open on the test's file (counting
-- only those, so a pipe or another test's file cannot change the count).
local function open_fds()
  local p = io.popen("ls -l /proc/" .. pid .. "/fd")
  local n = 0
  for line in p:lines() do
    if line:sub(-(#tmp + 3)) == "-> " .. tmp then n = n + 1 end
  end
  p:close()
  return n
end
write("a\n" .. string.rep("1\n", 1000))
collectgarbage(); collectgarbage()
local before = open_fds()
do
  local src <close> = mw.csv(tmp)
  for row in src do break end
  t.eq(open_fds(), before + 1, "open inside")
end
t.eq(open_fds(), before, "closed at the end of the block")
collectgarbage(); collectgarbage(); mw.gc.collect()
local native = mw.mem.stats().native
do
  local src <close> = mw.csv(tmp, {batch = 100})
  for b in src do b:release(); break end
  assert(mw.mem.stats().native > native, "the reader holds memory inside")
end
t.eq(mw.mem.stats().native, native, "the reader's buffers are freed at the end of the block")

-- Standard input, through a child moonwatch.
local exe = arg[-1]
write("x,y\n1,2\n3,4\n")
local p = io.popen(exe .. [[ -e "local s = 0 for r in mw.csv('-') do s = s + r.x * r.y end print(s)" < ]] .. tmp)
t.eq(p:read("a"), "14\n", "reads standard input")
p:close()
os.remove(tmp)

-- The progress bar: on a terminal only (a pseudo-terminal made by
-- util-linux's script), and never with progress = false.
if os.execute("command -v script > /dev/null 2>&1") then
  local big = os.tmpname()
  local bf = assert(io.open(big, "wb"))
  bf:write("a,b\n")
  local chunk = string.rep("1.5,2.5\n", 10000)
  for _ = 1, 70 do bf:write(chunk) end   -- 5.6 MB: over the 4 MiB threshold
  bf:close()
  local function run(opts, tty)
    local code = string.format("for b in mw.csv('%s', %s) do end", big, opts)
    local typescript = os.tmpname()
    local cmd = tty and string.format("script -q -c %q %s > /dev/null 2>&1", exe .. " -e \"" .. code .. "\"", typescript)
                     or string.format("%s -e %q > %s 2>&1", exe, code, typescript)
    os.execute(cmd)
    local out = io.open(typescript):read("a")
    os.remove(typescript)
    return out
  end
  assert(run("{batch = 1000}", true):find("MB (", 1, true), "a bar on a terminal")
  assert(not run("{batch = 1000, progress = false}", true):find("MB (", 1, true), "no bar when turned off")
  assert(not run("{batch = 1000}", false):find("MB (", 1, true), "no bar when stderr is not a terminal")
  os.remove(big)
end

-- Every NAB file: the same rows as a plain Lua parser.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
end
local nab = "../../../shared/data/nab/data"
local listing = io.popen("ls " .. nab .. "/*/*.csv 2>/dev/null")
local files = {}
for path in listing:lines() do files[#files + 1] = path end
listing:close()
if #files == 0 then
  print("csv: NAB data not found at " .. nab .. ", comparison skipped")
else
  local rows = 0
  for _, path in ipairs(files) do
    local ref = {}
    local first = true
    for line in io.lines(path) do
      if first then first = false else
        local ts, v = line:match("^([^,]+),([^,]+)$")
        local y, mo, d, h, mi, s = ts:match("(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)")
        ref[#ref + 1] = {((days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 24 + h) * 60 + mi) * 60000 + s * 1000,
                         tonumber(v)}
      end
    end
    local i = 0
    for b in mw.csv(path, {batch = 1000}) do
      for k = 1, #b do
        i = i + 1
        local want = ref[i]
        if b.timestamp[k] ~= want[1] or b.value[k] ~= want[2] then
          error(string.format("%s row %d: got %s,%s want %s,%s", path, i, b.timestamp[k], b.value[k], want[1], want[2]))
        end
      end
    end
    t.eq(i, #ref, path .. " row count")
    rows = rows + i
  end
  print(string.format("csv: %d NAB files, %d rows identical to the reference parser", #files, rows))
end


-- Review cases: each was a bug once.
local tmp2 = os.tmpname()
local function write2(text) local fh = assert(io.open(tmp2, "wb")); fh:write(text); fh:close(); return tmp2 end
-- A Lua file: read from its current position, kept alive by the iterator.
write2("a,b\n1,2\n3,4\n")
local fh = io.open(tmp2)
t.eq(fh:read("l"), "a,b", "the script read the header itself")
local vals = {}
for row in mw.csv(fh, {header = false}) do vals[#vals + 1] = row[1] end
t.eq(table.concat(vals, ","), "1,3", "the rest comes from the file's position")
-- Batches: rows before an error are delivered, then the error.
local seen = 0
local okb, errb = pcall(function()
  for b in mw.csv(write2("a,b\n1,2\n3,4\n5,x\n7,8\n"), {batch = 10}) do seen = seen + #b end
end)
t.eq(okb, false, "an error in a batch")
t.eq(seen, 2, "the rows before it were delivered first")
assert(errb:find(":4: column 'b' (2): not a number: 'x'", 1, true), errb)
-- A missing first value does not fix a timestamp column as numbers.
local tb = mw.csv(write2("t,v\n,1\n2024-01-01,2\n"), {batch = 10})()
t.eq(tb.t[2], 1704067200000, "timestamp column inferred past a missing value")
-- Columns chosen by name imply a header.
local hr = {}
for row in mw.csv(write2("host,zone\na,b\nc,d\n"), {columns = {"host"}}) do hr[#hr + 1] = row.host end
t.eq(table.concat(hr, ","), "a,c", "columns by name on an all-string file")
os.remove(tmp2)

print("csv: ok")
