-- frame.lua: mw.frame and mw.ring from Lua.
local t = require "helper"

local f = mw.frame{value = {1, 2, 3}, ts = mw.series{10, 20, 30}}
t.eq(#f, 3, "rows")
local cols = f:columns()
t.eq(table.concat(cols, ","), "ts,value", "columns ordered by name")
t.eq(mw.type(f.value), "series", "a column is a series")
t.eq(f["ts"][2], 20, "f[name]")
f.value[1] = 100
t.eq(f.value[1], 100, "columns are shared, not copied")
local row = f:row(2)
t.eq(row.value, 2, "row"); t.eq(row.ts, 20, "row ts")
t.raises("frame row 4 out of range (3 rows)", function() f:row(4) end)

-- Adding and removing columns; lengths must match.
f.double = f.value * 2
t.eq(f.double[2], 4, "added column")
f:add("z", {7, 8, 9})
t.eq(#f:columns(), 4, "add")
t.raises("column 'bad' has 2 rows, the frame has 3", function() f.bad = {1, 2} end)
f.z = nil
t.eq(#f:columns(), 3, "column removed")
t.eq(f.nope, nil, "absent column")

-- Slices share buffers; select shares columns.
local sl = f:slice(2, 3)
t.eq(#sl, 2, "slice rows")
t.eq(sl.ts[1], 20, "slice values")
sl.ts[1] = -20
t.eq(f.ts[2], -20, "slice writes through")
t.eq(#f:head(2), 2, "head")
t.eq(#f:head(), 3, "head defaults to 5 rows (or fewer)")
local sel = f:select{"value", "ts"}
t.eq(table.concat(sel:columns(), ","), "value,ts", "select order")
t.raises("no column 'nope'", function() f:select{"nope"} end)

-- A column named like a method shadows it; mw.frame functions still work.
local g = mw.frame{columns = {1}}
t.eq(mw.type(g.columns), "series", "column shadows method")
t.eq(mw.frame.columns(g)[1], "columns", "mw.frame.columns works")

-- tostring shows the first rows as a table.
local big = mw.frame{a = mw.series.range(1, 100), b = mw.series.zeros(100)}
local s = tostring(big)
assert(s:find("frame(100 rows, 2 columns)", 1, true), s)
assert(s:find("95 more rows", 1, true), s)
local lines = 0
for _ in s:gmatch("\n") do lines = lines + 1 end
t.eq(lines, 7, "header, names, 5 rows, the rest")
-- A timestamp column of epoch milliseconds shows as UTC times.
local timed = mw.frame{timestamp = mw.series{1397088240000, 1397088540000}, value = mw.series{1.5, 2}}
assert(tostring(timed):find("2014-04-10 00:04:00", 1, true), tostring(timed))
local odd = mw.frame{timestamp = mw.series{1.5, 2}}
assert(tostring(odd):find("1.5", 1, true), "a timestamp column that is not whole milliseconds stays numbers")
t.raises("column 'x' must be a series or a table of numbers", function() mw.frame{x = 1} end)

-- Rings: a window of the last n values with running statistics.
local r = mw.ring(3)
t.eq(r:push(1), nil, "no eviction while filling")
r:push(2); r:push(3)
t.eq(r:full(), true, "full")
t.eq(r:push(4), 1, "the oldest leaves")
t.eq(#r, 3, "count"); t.eq(r:capacity(), 3, "capacity")
t.eq(r[1], 2, "oldest first"); t.eq(r[3], 4, "newest last")
t.eq(r:mean(), 3, "mean")
t.eq(r:var(), 1, "var")
t.eq(r:toseries():sum(), 9, "toseries")
t.raises("ring index 4 out of range (3 values)", function() return r[4] end)
-- A long stream stays exact (the statistics are recomputed regularly).
local long = mw.ring(100)
for i = 1, 100000 do long:push(1e9 + (i % 7)) end
local ref = long:toseries()
assert(math.abs(long:mean() - ref:mean()) < 1e-6, "ring mean drift")
assert(math.abs(long:var() - ref:var()) < 1e-6, "ring var drift: " .. long:var() .. " vs " .. ref:var())
r:clear()
t.eq(#r, 0, "clear")
t.raises("capacity must be 1 or more", function() mw.ring(0) end)


-- Review cases: each was a bug once.
local col = mw.series{1, 2, 3}
local fc = mw.frame{a = col}
t.raises("cannot append to a slice", function() fc.a:append(4) end)
col:append(4)
t.eq(#fc, 3, "the frame keeps its rows when the given series grows")
t.eq(#fc.a, 3, "its column is a view of the first 3 values")
col[1] = 10
t.eq(fc.a[1], 10, "and shares the buffer")
local nul = mw.frame{["a\0x"] = {1}, b = {2}}
t.eq(#nul:columns(), 2, "names with NUL bytes")
t.eq(nul["a\0x"][1], 1, "read back by the full name")
t.raises("bad argument #1 to 'ring' (integer capacity expected, got string)", function() mw.ring("x") end)
t.raises("column 'v': element 1 is a string, not a number", function() mw.frame{v = {"1"}} end)

print("frame: ok")
