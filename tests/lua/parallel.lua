-- parallel.lua: mw.parallel.map, items over independent runtimes on
-- threads: what crosses (and what cannot), order, errors, budgets, and
-- that n runtimes give the numbers one does.
local t = require "helper"

-- Every kind of value that can cross, there and back, exactly.
local s = mw.series({1.5, -2, 0 / 0}, {ts = {1000, 2000, 3000}})
local items = {
  true, false, 42, -7.25, 2 ^ 53, math.mininteger, "a\0b", "",
  {1, 2, {x = "deep", [3.5] = true}}, s,
}
local echo = "return function(v) return {v = v, type = math.type(v) or type(v)} end"
local out, errors, stats = mw.parallel.map(3, echo, items)
t.eq(errors, nil, "no errors")
t.eq(stats.runtimes, 3, "three runtimes")
t.eq(stats.skipped, 0, "nothing skipped")
t.eq(stats.failed, 0, "nothing failed")
t.eq(#out, #items, "a result per item")
for i = 1, 8 do
  t.eq(out[i].v, items[i], "item " .. i)
  t.eq(out[i].type, math.type(items[i]) or type(items[i]), "type of item " .. i)
end
t.eq(math.type(out[5].v), "float", "2^53 stays a float")
t.eq(out[9].v[3].x, "deep", "nested tables")
t.eq(out[9].v[3][3.5], true, "float keys")
local back = out[10].v
t.eq(mw.type(back), "series", "a series comes back a series")
t.eq(#back, 3, "its length")
t.eq(back[1], 1.5, "its values")
t.eq(back[3] ~= back[3], true, "NaN stays NaN")
t.eq(back:times()[2], 2000, "its timestamps")
t.eq(out[10].type, "userdata", "a series in the worker")
-- a nil result leaves a hole, not an error
out = mw.parallel.map(2, "return function() return nil end", {1, 2})
t.eq(#out, 0, "nil results")

-- The numbers of one runtime: detectors on 20 series, 1 and 4 runtimes.
local score = [[
local window = ...
return function(seed)
  local s = mw.synth{n = 5000, period = 288, anomalies = 3, seed = seed}
  local z = mw.detect.zscore{window = window}:run(s)
  return {sum = z:sum(), max = z:max(), n = #z}
end]]
local seeds = {}
for i = 1, 20 do seeds[i] = i end
local one = mw.parallel.map(1, score, seeds, {args = {288}})
local four, _, st4 = mw.parallel.map(4, score, seeds, {args = {288}})
t.eq(st4.runtimes, 4, "four runtimes")
for i = 1, 20 do
  t.eq(four[i].sum, one[i].sum, "seed " .. i .. ": the same sum, bit for bit")
  t.eq(four[i].max, one[i].max, "seed " .. i .. ": the same max")
end
-- and the same as here, in this runtime
local here = load(score)(288)(7)
t.eq(four[7].sum, here.sum, "the same as in the calling runtime")
t.eq(st4.peak > 0, true, "the runtimes' peak memory is reported")

-- Errors: the item's error value comes back (tables as tables); items
-- after a failure may be skipped, never half-done.
local failing = "return function(x) if x == 3 then error({msg = 'bad ' .. x}) end return x * 10 end"
local r, e, st = mw.parallel.map(2, failing, {1, 2, 3, 4, 5, 6, 7, 8})
t.eq(e[3].msg, "bad 3", "the error value of item 3")
t.eq(r[1], 10, "item 1 done")
t.eq(r[2], 20, "item 2 done")
t.eq(st.failed, 1, "one failure")
for i = 4, 8 do
  t.eq(r[i] == nil or r[i] == i * 10, true, "item " .. i .. " done or skipped")
end
t.eq(st.skipped >= 1, true, "later items skipped")
r, e = mw.parallel.map(2, "return function(x) error('plain ' .. x, 0) end", {1})
t.eq(e[1], "plain 1", "a string error")
r, e = mw.parallel.map(2, "return function(x) return print end", {1})
t.eq(e[1]:find("result of item 1: a function cannot go to another runtime", 1, true) ~= nil, true,
     "a result that cannot cross is the item's error")

-- What cannot go in, and a source that does not start, raise here.
t.raises("item 2: a function cannot go to another runtime", mw.parallel.map, 2, echo, {1, print})
local cyc = {}
cyc.self = cyc
t.raises("nested more than 32 deep (or a cycle)", mw.parallel.map, 2, echo, {cyc})
local gone = mw.series{1}
gone:release()
t.raises("a released object cannot go", mw.parallel.map, 2, echo, {gone})
t.raises("a runtime could not start: the source must return a function", mw.parallel.map, 2,
         "return 42", {1})
t.raises("a runtime could not start: (parallel):1:", mw.parallel.map, 2, "syntax error", {1})
t.raises("runtimes must be in [1, 256]", mw.parallel.map, 0, echo, {1})
t.raises("runtimes must be in [1, 256]", mw.parallel.map, 257, echo, {1})
t.raises("budget must be a whole number of bytes", mw.parallel.map, 2, echo, {1}, {budget = -1})
t.raises("at most 200 args", mw.parallel.map, 2, echo, {1}, {args = mw.series.zeros(201):totable()})
t.raises("args must be a list", mw.parallel.map, 2, echo, {1}, {args = 5})
t.raises("name must be a string", mw.parallel.map, 2, echo, {1}, {name = 5})
-- no items, no runtimes
out, errors, stats = mw.parallel.map(4, echo, {})
t.eq(#out, 0, "no items")
t.eq(stats.runtimes, 0, "no runtimes for no items")

-- A budget per runtime: an item that needs more fails with the budget's
-- error; the others pass.
local grow = "return function(n) return #mw.series.zeros(n) end"
r, e = mw.parallel.map(2, grow, {1000, 10000000, 10}, {budget = 8 << 20})
t.eq(r[1], 1000, "a small item passes")
t.eq(type(e[2]) == "string" and e[2]:find("memory limit exceeded", 1, true) ~= nil, true,
     "an item over the budget fails: " .. tostring(e and e[2]))
-- a float budget that is a whole number is fine
r = mw.parallel.map(1, grow, {10}, {budget = 64e6})
t.eq(r[1], 10, "budget = 64e6")
-- without a budget of their own, the runtimes share what the caller has
-- left: 2 runtimes under a 40 MiB budget get under 20 MiB each
local before = mw.mem.limit()
mw.mem.limit(40 << 20)
r, e = mw.parallel.map(2, grow, {1000000, 3000000})
mw.mem.limit(before or 0)
t.eq(r[1], 1000000, "8 MB fits in a share")
t.eq(type(e) == "table" and type(e[2]) == "string" and e[2]:find("memory limit exceeded", 1, true) ~= nil,
     true, "24 MB does not fit in half of 40 MiB")
-- error(nil), and an error object whose __tostring raises, still fail
-- the item (with a text)
r, e, st = mw.parallel.map(1, "return function() error(nil) end", {1})
t.eq(e[1], "(error object is a nil value)", "error(nil)")
r, e, st = mw.parallel.map(1, [[return function()
  error(setmetatable({print}, {__tostring = function() error("x") end}))
end]], {1})
t.eq(st.failed, 1, "an error object that cannot be read still fails its item")
t.eq(type(e[1]), "string", "with a text: " .. tostring(e[1]))
-- a setup error that is not a string
t.raises("a runtime could not start: (error object is a table value)", mw.parallel.map, 1,
         "error({})", {1})
-- the chunk name of errors
r, e = mw.parallel.map(1, "return function() error('x') end", {1}, {name = "mine"})
t.eq(e[1], "mine:1: x", "errors name the chunk")

print("parallel: ok")
