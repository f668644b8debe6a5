-- map.lua: mw.map from Lua: keys, deletion, iteration, methods, errors.
local t = require "helper"

local m = mw.map{a = 1, b = "two", [3] = true}
t.eq(#m, 3, "#m counts entries")
t.eq(m.a, 1, "m.a")
t.eq(m["b"], "two", "m.b")
t.eq(m[3], true, "m[3]")
t.eq(m[3.0], true, "3.0 is the same key as 3")
t.eq(m.zzz, nil, "absent key")
t.eq(m[false], nil, "unusable key reads as absent")
t.eq(m[0/0], nil, "NaN reads as absent")

m.c = 2.5
m[1.5] = "float key"
t.eq(m.c, 2.5, "set string key")
t.eq(m[1.5], "float key", "float key")
m.a = nil
t.eq(m.a, nil, "nil deletes")
t.eq(#m, 4, "count after delete")

t.raises("map key is nil", function() m[nil] = 1 end)
t.raises("map key is NaN", function() m[0/0] = 1 end)
t.raises("map keys are strings or numbers, got boolean", function() m[true] = 1 end)
t.raises("cannot store a table in a map", function() m.x = {} end)
t.raises("map keys are strings or numbers, got table", function() mw.map{[{}] = 1} end)

-- Methods, and keys shadowing them.
t.eq(m:get("c"), 2.5, "get")
t.eq(m:get("nope", 42), 42, "get with default")
t.eq(m:has("c"), true, "has")
t.eq(m:has("nope"), false, "has absent")
m:set("d", 4):set("e", 5)
t.eq(m.e, 5, "chained set")
local keys = m:keys()
table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
t.eq(#keys, 6, "keys")
t.eq(#m:values(), 6, "values")
local copy = m:totable()
t.eq(copy.c, 2.5, "totable")
m.get = "shadow"
t.eq(m.get, "shadow", "a key shadows a method")
t.eq(mw.map.get(m, "c"), 2.5, "mw.map.get always works")
mw.map.set(m, "get", nil)
t.eq(m:get("c"), 2.5, "method back once the key is gone")

-- pairs visits each entry once and tolerates deleting the current key.
local big = mw.map()
for i = 1, 1000 do big["k" .. i] = i end
local sum, n = 0, 0
for k, v in pairs(big) do
  t.eq(big[k], v, "pairs value")
  sum = sum + v
  n = n + 1
  big[k] = nil
end
t.eq(n, 1000, "pairs count")
t.eq(sum, 500500, "pairs sum")
t.eq(#big, 0, "all deleted during pairs")

-- tostring: identifiers bare, other keys bracketed.
local small = mw.map{x = 1}
t.eq(tostring(small), "map{x = 1}", "tostring")
small.x = nil
small["a b"] = mw.list{1}
t.eq(tostring(small), 'map{["a b"] = list{1}}', "tostring with odd key")
t.eq(mw.type(small), "map", "mw.type")

-- Maps and lists nest both ways.
local cfg = mw.map{name = "cpu", tags = mw.list{"a", "b"}}
t.eq(cfg.tags[2], "b", "nested list")
cfg.self = cfg
t.eq(cfg.self.self.name, "cpu", "self reference")


-- Function forms, clear, released tostring, constructor errors.
local f = mw.map{a = 1, b = 2}
local ks = mw.map.keys(f)
table.sort(ks)
t.eq(table.concat(ks, ","), "a,b", "mw.map.keys")
t.eq(#mw.map.values(f), 2, "mw.map.values")
f:clear()
t.eq(#f, 0, "clear")
t.eq(f.a, nil, "cleared")
f:release()
t.eq(tostring(f), "map (released)", "tostring of a released map")
t.raises("bad argument #1 to 'map' (table expected, got string)", function() mw.map("x") end)

-- Over budget, a map refuses new keys and keeps the ones it has.
collectgarbage(); collectgarbage(); mw.gc.collect()
local grow = mw.map()
mw.mem.budget(mw.mem.stats().total + 200000)
local ok, err = pcall(function() for i = 1, 1e6 do grow[i] = i end end)
mw.mem.budget(false)
t.eq(ok, false, "map growth over budget fails")
assert(tostring(err):find("memory limit exceeded", 1, true), tostring(err))
local n = #grow
assert(n > 1000, "kept " .. n)
for i = 1, n do assert(grow[i] == i, "entry " .. i .. " intact") end
grow:release()

print("map: ok")
