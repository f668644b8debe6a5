-- Metamethods, table functions, utf8, os.date with fixed times, and
-- finalizers run in order when the state closes.
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x}, V) end
V.__eq = function(a, b) return a.x == b.x end
V.__lt = function(a, b) return a.x < b.x end
V.__le = function(a, b) return a.x <= b.x end
V.__len = function(a) return a.x end
V.__call = function(self, y) return self.x * y end
V.__concat = function(a, b) return tostring(a) .. "&" .. tostring(b) end
V.__tostring = function(a) return "V(" .. a.x .. ")" end
V.__unm = function(a) return setmetatable({x = -a.x}, V) end
V.__idiv = function() return "idiv" end
V.__name = "Vector"
local a, b = setmetatable({x = 1}, V), setmetatable({x = 2}, V)
print(tostring(a + b), a == b, a < b, a <= b, #b, b(10), a .. b, a .. "s", tostring(-a), a // b)
local defaults = setmetatable({}, {__index = function(_, k) return k .. "?" end})
print(defaults.foo, rawget(defaults, "foo"))
local log = {}
local proxy = setmetatable({}, {__newindex = function(t, k, v) log[#log + 1] = k; rawset(t, k, v) end})
proxy.a = 1; proxy.a = 2; proxy.b = 3
print(table.concat(log, ","), proxy.a)
print(pcall(function() return a < 1 end))
print(pcall(function() return {} + 1 end))
print(pcall(function() local t = nil; return t.x end))
print(pcall(function() return #nil end))
print(getmetatable("").__index == string, getmetatable(setmetatable({}, {__metatable = "locked"})))

local t = {5, 2, 8, 1, 9, 3}
table.sort(t)
print(table.concat(t, " "))
table.sort(t, function(x, y) return x > y end)
print(table.concat(t, " "))
print(pcall(table.sort, {3, 1, 2, 5, 4, 7, 6, 9, 8, 10, 12, 11}, function() return true end))
print(table.concat({1, 2, 3}, ", ", 2, 3), table.concat({}, "x"), pcall(table.concat, {{}}))
print(table.unpack({1, 2, 3}, 2), table.unpack({1, 2}, 1, 4))
local m = table.move({1, 2, 3, 4, 5}, 2, 4, 1)
print(table.concat(m, ","), table.concat(table.move({1, 2, 3}, 1, 3, 3, {}), ",", 3, 5))
local ins = {1, 2, 3}
table.insert(ins, 1, 0); table.insert(ins, 9)
print(table.concat(ins, ","), table.remove(ins), table.remove(ins, 1), table.concat(ins, ","))
print(pcall(table.insert, ins, 10, 1))
print(table.pack(1, nil, 3).n, #table.pack())

print(utf8.char(72, 228, 8364, 128512), utf8.charpattern)
for p, c in utf8.codes("häll€") do io.write(p, ":", c, " ") end
print()
print(utf8.len("häll€"), utf8.len("\xff"), utf8.codepoint("€", 1), utf8.offset("häll€", 3), utf8.offset("abc", -1))
print(pcall(utf8.codepoint, "\xff"))
print(utf8.len("abc", 4), pcall(utf8.len, "abc", 5))

print(os.date("!%Y-%m-%d %H:%M:%S", 0), os.date("!%Y-%m-%dT%H:%M:%S", 1700000000))
local d = os.date("!*t", 86400 * 365)
print(d.year, d.month, d.day, d.hour, d.min, d.sec, d.wday, d.yday, d.isdst)
print(os.time({year = 2024, month = 1, day = 1, hour = 12}) - os.time({year = 2023, month = 12, day = 31, hour = 12}))
print(pcall(os.date, "%Ez"))
print(type(os.clock()), os.getenv("MW_COMPAT_SURELY_UNSET"))

for i = 1, 3 do
  setmetatable({}, {__gc = function() print("finalized", i) end})
end
collectgarbage()
keep = {}
for i = 1, 3 do
  keep[i] = setmetatable({}, {__gc = function() print("at close", i) end})
end
print("end of script")
