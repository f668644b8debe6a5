-- iter.lua: generator iterators: the protocol, every combinator, early
-- release, nesting, and errors raised inside the functions they call.
local t = require "helper"

local function items(it)
  local out = {}
  for x in it do out[#out + 1] = x end
  return table.concat(out, ",")
end

-- Sources.
t.eq(items(mw.range(1, 5)), "1,2,3,4,5", "range")
t.eq(items(mw.range(5, 1, -2)), "5,3,1", "range down")
t.eq(items(mw.range(0, 1, 0.5)), "0.0,0.5,1.0", "float range")
t.eq(items(mw.range(1, 0)), "", "empty range")
t.eq(items(mw.iter{"a", "b"}), "a,b", "iter over a table")
t.eq(items(mw.iter(mw.series{1.5, 2.5})), "1.5,2.5", "iter over a series")
t.eq(items(mw.iter(mw.list{1, "x"})), "1,x", "iter over a list")
local rows = {}
for r in mw.iter(mw.frame{a = {1, 2}}) do rows[#rows + 1] = r.a end
t.eq(table.concat(rows, ","), "1.0,2.0", "iter over a frame gives rows")
t.raises("iterator, series, frame, list or table expected, got number", function() mw.iter(5) end)
t.eq(items(mw.gen(function(yield) for i = 1, 3 do yield(i * 10) end end)), "10,20,30", "gen")

-- Combinators, lazily.
t.eq(items(mw.range(1, 10):filter(function(x) return x % 2 == 0 end):map(function(x) return x * x end)),
     "4,16,36,64,100", "filter and map")
t.eq(items(mw.range(1, 100):skip(10):take(3)), "11,12,13", "skip and take")
t.eq(items(mw.range(1, 3):take(0)), "", "take 0")
local pairs_seen = {}
for i, x in mw.iter{"a", "b"}:enumerate() do pairs_seen[#pairs_seen + 1] = i .. x end
t.eq(table.concat(pairs_seen, ","), "1a,2b", "enumerate")
local zipped = {}
for a, b, c in mw.zip(mw.range(1, 3), mw.iter{"x", "y"}, mw.range(7, 9)) do zipped[#zipped + 1] = a .. b .. c end
t.eq(table.concat(zipped, ","), "1x7,2y8", "zip ends with the shortest")
t.eq(items(mw.chain(mw.range(1, 2), mw.iter{}, mw.range(5, 6))), "1,2,5,6", "chain")
t.eq(items(mw.range(1, 3):chain(mw.range(4, 4))), "1,2,3,4", "chain as a method")
t.eq(mw.range(1, 1000):count(), 1000, "count")
t.eq(tostring(mw.range(1, 5):collect()), tostring(mw.series{1, 2, 3, 4, 5}), "collect numbers")
t.eq(#mw.iter{}:collect(), 0, "collect nothing")
local rec = mw.iter{{a = 1, b = 2}, {a = 3}, {a = 5, b = 6}}:collect()
t.eq(mw.type(rec), "frame", "collect records")
t.eq(rec.a:sum(), 9, "record column")
assert(rec.b[2] ~= rec.b[2], "a missing field is NaN")

-- Laziness: nothing is pulled before it is needed.
local pulled = 0
local lazy = mw.range(1, 1e9):map(function(x) pulled = pulled + 1; return x end):take(3)
t.eq(pulled, 0, "nothing pulled yet")
t.eq(items(lazy), "1,2,3", "take from an endless pipeline")
t.eq(pulled, 3, "only what was needed")

-- window: views of n values, moving by step; each valid until the next.
local wins = {}
for w in mw.range(1, 10):window(4, 3) do wins[#wins + 1] = w:sum() end
t.eq(table.concat(wins, ","), "10.0,22.0,34.0", "window(4, 3)")
local sums = {}
for w in mw.range(1, 6):window(2) do sums[#sums + 1] = w:sum() end
t.eq(table.concat(sums, ","), "3.0,5.0,7.0,9.0,11.0", "window(2), step 1, across buffer slides")
local gaps = {}
for w in mw.range(1, 20):window(2, 5) do gaps[#gaps + 1] = w[1] end
t.eq(table.concat(gaps, ","), "1.0,6.0,11.0,16.0", "step larger than the window")
t.raises("window: items must be numbers", function() for _ in mw.iter{"a"}:window(1) do end end)

-- batch: frames of up to n rows.
local sizes = {}
for b in mw.range(1, 10):batch(4) do sizes[#sizes + 1] = #b .. ":" .. b.value:sum() end
t.eq(table.concat(sizes, ","), "4:10.0,4:26.0,2:19.0", "batch of numbers")
local rb = mw.iter{{x = 1}, {x = 2}, {x = 3}}:batch(2)
local first = rb()
t.eq(#first, 2, "batch of records")
t.eq(first.x[2], 2, "record batch column")

-- Exhausted and closed iterators stay exhausted.
local once = mw.range(1, 2)
t.eq(items(once), "1,2", "first pass")
t.eq(items(once), "", "exhausted stays exhausted")
local closed = mw.range(1, 5)
t.eq(closed(), 1, "call pulls one item")
closed:close()
closed:close()
t.eq(closed(), nil, "closed stays closed")
assert(tostring(closed):find("exhausted", 1, true), tostring(closed))

-- Early release: a <close> iterator closes its file at a break; closing
-- a pipeline closes its source.
local pid do
  local stat = assert(io.open("/proc/self/stat"))
  pid = stat:read("n")
  stat:close()
end
local function open_fds()
  local p = io.popen("ls /proc/" .. pid .. "/fd")
  local n = 0
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n
end
local path = os.tmpname()
local f = io.open(path, "w")
for i = 1, 1000 do f:write("line ", i, "\r\n") end
f:close()
t.eq(mw.lines(path):count(), 1000, "lines")
t.eq(mw.lines(path)(), "line 1", "CRLF stripped")
collectgarbage(); collectgarbage()
local fds = open_fds()
do
  local src <close> = mw.lines(path)
  for line in src:map(string.upper) do
    if line == "LINE 3" then break end
  end
  t.eq(open_fds(), fds + 1, "file open inside the block")
end
t.eq(open_fds(), fds, "closed at the end of the block, before any collection")
local pipe = mw.lines(path):take(2)
pipe:close()
t.eq(open_fds(), fds, "closing a pipeline closes its source")
t.raises("cannot open", function() mw.lines(path .. ".missing") end)
os.remove(path)

-- Errors inside map, filter and generators propagate with their message;
-- what was yielded before is kept.
local got = {}
local ok, err = pcall(function()
  for x in mw.range(1, 10):map(function(x) if x == 4 then error("boom at 4") end; return x end) do
    got[#got + 1] = x
  end
end)
t.eq(ok, false, "error in map")
assert(err:find("boom at 4", 1, true), err)
t.eq(#got, 3, "items before the error were delivered")
t.raises("bad filter", function() mw.range(1, 2):filter(function() error("bad filter") end):count() end)
t.raises("gen failed", function() mw.gen(function(yield) yield(1); error("gen failed") end):count() end)
t.raises("map function returned nil", function() mw.range(1, 2):map(function() end):count() end)
t.raises("generator yielded nil", function() mw.gen(function(yield) yield(nil) end):count() end)

-- Nested pipelines: an iterator made inside map.
local nested = mw.range(1, 3):map(function(n) return mw.range(1, n):count() end)
t.eq(items(nested), "1,2,3", "nested pipelines")


-- Review cases: each was a bug once.
t.eq(tostring(mw.iter{1, 2, 3}:collect()), tostring(mw.series{1, 2, 3}), "collect over mw.iter of a table")
t.eq(#mw.iter(mw.series{1, 2}):collect(), 2, "collect over mw.iter of a series")
local bs = {}
for b in mw.iter{1, 2, 3}:batch(2) do bs[#bs + 1] = #b end
t.eq(table.concat(bs, ","), "2,1", "batch over mw.iter keeps the last item")
t.eq(#mw.chain({1, 2}, {3}):collect(), 3, "collect over chain")
local inner = mw.range(1, 3)
mw.iter{inner}:count()
t.eq(inner(), 1, "iterating a table of iterators does not close them")
t.raises("iterator pipeline too deep", function()
  local p = mw.range(1, 10)
  for _ = 1, 300 do p = p:take(10) end
end)
local many = {}
for i = 1, 500 do many[i] = mw.range(1, 2) end
local zipped_n = select("#", mw.zip(table.unpack(many))())
t.eq(zipped_n, 500, "zip of 500 iterators")
local wide = mw.gen(function(yield) yield(table.unpack(mw.range(1, 3000):collect():totable())) end)
t.eq(select("#", wide()), 3000, "a generator yielding 3000 values")
local closed_inside = 0
local g = mw.gen(function(yield)
  local guard <close> = setmetatable({}, {__close = function() closed_inside = closed_inside + 1 end})
  for i = 1, 10 do yield(i) end
end)
g(); g:close()
t.eq(closed_inside, 1, "closing a generator closes its pending to-be-closed variables")
local ok, e = pcall(function() mw.gen(function() error({code = 42}) end)() end)
t.eq(type(e), "table", "a generator's error value passes unchanged"); t.eq(e.code, 42, "its content")
t.raises("start and stop must not be NaN", function() mw.range(0/0, 1) end)

-- Closing an iterator from a finalizer run inside its own next waits for
-- next to return (csv, jsonl and lines free their buffers on close).
collectgarbage("generational")
local victim
local function arm()
  setmetatable({}, {__gc = function() if victim then victim:close() end; arm() end})
end
arm()
local src = os.tmpname()
local f = io.open(src, "w")
for i = 1, 3000 do f:write(string.rep("x", 1500), ",", i, "\n") end
f:close()
for _, make in ipairs{function() return mw.lines(src) end,
                      function() return mw.csv(src, {header = false}) end,
                      function() return mw.csv(src, {header = false, batch = 7}) end} do
  for _ = 1, 20 do
    local it2 = make()
    victim = it2
    for _ in it2 do end
    victim = nil
  end
end
os.remove(src)

print("iter: ok")
