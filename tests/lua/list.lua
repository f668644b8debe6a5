-- list.lua: mw.list from Lua: construction, indexing, methods, iteration,
-- conversion of values, and clear errors.
local t = require "helper"

local l = mw.list{1, 2.5, "three", true}
t.eq(#l, 4, "length")
t.eq(l[1], 1, "l[1]")
t.eq(math.type(l[1]), "integer", "integers stay integers")
t.eq(l[2], 2.5, "l[2]")
t.eq(l[3], "three", "l[3]")
t.eq(l[4], true, "l[4]")
t.eq(l[5], nil, "past the end reads nil")
t.eq(l[0], nil, "index 0 reads nil")
t.eq(l[1.0], 1, "integral float index")
t.eq(mw.type(l), "list", "mw.type")

-- Writing: in range, and at #l + 1 (append).
l[2] = "two"
l[5] = 5
t.eq(l[2], "two", "set")
t.eq(#l, 5, "append by index")
t.raises("list index 7 out of range (length 5)", function() l[7] = 1 end)
t.raises("list index 0 out of range", function() l[0] = 1 end)
t.raises("number has no integer representation", function() l[1.5] = 1 end)

-- Methods.
l:append(6)
t.eq(l[6], 6, "append")
l:insert(1, "first")
t.eq(l[1], "first", "insert at 1")
t.eq(#l, 7, "length after insert")
t.eq(l:pop(), 6, "pop last")
t.eq(l:pop(1), "first", "pop first")
t.eq(#l, 5, "length after pops")
t.raises("position out of bounds", function() l:pop(10) end)
local tbl = l:totable()
t.eq(#tbl, 5, "totable length")
t.eq(tbl[2], "two", "totable value")
t.eq(tostring(l), 'list{1, "two", "three", true, 5}', "tostring")

-- Iteration: ipairs stops at the end; pairs visits nil values too.
local n = 0
for i, v in ipairs(l) do n = n + 1; t.eq(v, l[i], "ipairs value") end
t.eq(n, 5, "ipairs count")
local holes = mw.list.rep(3)
local visited = 0
for i, v in pairs(holes) do visited = visited + 1; t.eq(v, nil, "nil value") end
t.eq(visited, 3, "pairs visits nils")
t.eq(#mw.list.rep(4, "x"), 4, "rep length")
t.eq(mw.list.rep(4, "x")[4], "x", "rep value")
t.eq(#mw.list(), 0, "empty list")

-- Only values the native heap can hold go in.
t.raises("cannot store a table in a list", function() l:append({}) end)
t.raises("cannot store a function in a list", function() l[1] = print end)
t.raises("cannot store a table in a list", function() mw.list{1, {}} end)
t.raises("bad argument #1", function() mw.list.rep(-1) end)

-- Nesting: lists hold lists and maps by reference.
local inner = mw.list{1}
local outer = mw.list{inner, inner}
t.eq(outer[1], inner, "same object, same handle")
t.eq(rawequal(outer[1], outer[2]), true, "identity")
inner:append(2)
t.eq(#outer[2], 2, "shared, not copied")
t.eq(tostring(outer), "list{list{1, 2}, list{1, 2}}", "nested tostring")

-- A cycle prints without looping; long lists are cut.
local self = mw.list{}
self:append(self)
t.eq(tostring(self), "list{list{<cycle>}}", "cycle tostring")
local long = mw.list.rep(100, 0)
assert(tostring(long):find("... (60 more)", 1, true), tostring(long))

-- Strings with any bytes round-trip.
local bytes = "a\0b\255\n"
local s = mw.list{bytes}
t.eq(s[1], bytes, "binary string")
t.eq(tostring(mw.list{'q"\\'}), [[list{"q\"\\"}]], "escaped tostring")


-- Methods' results and edge cases.
local m = mw.list{1}
t.eq(m:append(2), m, "append returns the list")
t.eq(m:insert(3), m, "insert(v) appends and returns the list")
t.eq(m:insert(1, 0), m, "insert(i, v) returns the list")
t.eq(tostring(m), "list{0, 1, 2, 3}", "after inserts")
m:clear()
t.eq(#m, 0, "clear")
t.eq(m:pop(), nil, "pop on an empty list gives nil")
t.eq(select("#", mw.list():pop()), 1, "pop on an empty list gives one value, nil (as table.remove)")
t.raises("position out of bounds", function() m:pop(1) end)
t.raises("bad argument #1 to 'list' (table expected, got number)", function() mw.list(5) end)
local next_of = pairs(mw.list{1})
t.eq(next_of(mw.list{1}, math.maxinteger), nil, "iterator past the end")
t.eq(tostring(mw.list{1.0, -0.5, 1e300, 2^63, math.huge, -math.huge}),
     "list{1.0, -0.5, 1e+300, 9.2233720368548e+18, inf, -inf}", "numbers print as Lua prints them")
t.eq(tostring(mw.list{math.mininteger}), "list{" .. math.mininteger .. "}", "integers")

print("list: ok")
