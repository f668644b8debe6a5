-- goto, to-be-closed variables (order, errors in __close), error objects
-- and levels, xpcall with a traceback, select, load with an environment.
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then goto continue end
    io.write(i, ",", j, " ")
    ::continue::
  end
end
print()
do
  local n = 0
  ::top::
  n = n + 1
  if n < 5 then goto top end
  print("looped", n)
end

local function closer(name)
  return setmetatable({}, {__close = function(_, err) print("close", name, err) end})
end
do
  local a <close> = closer("a")
  local b <close> = closer("b")
  local c <const> = 10
  print("in block", c)
end
print(pcall(function()
  local a <close> = closer("first")
  local b <close> = setmetatable({}, {__close = function() error("close failed") end})
  error("body failed")
end))
print(pcall(function() local x <close> = 42 end))
print(pcall(function() local x <close> = nil; local y <close> = false; return "nil and false are fine" end))

local function lvl1() error("at level 1", 1) end
local function lvl2() error("at level 2", 2) end
local function lvl0() error("no position", 0) end
print(pcall(lvl1))
print(pcall(lvl2))
print(pcall(lvl0))
print(pcall(error))
print(pcall(error, nil))
local obj = setmetatable({msg = "custom"}, {__tostring = function(e) return "E(" .. e.msg .. ")" end})
local ok, e = pcall(error, obj)
print(ok, e == obj, tostring(e))
print(select(2, pcall(error, {1, 2, 3}))[2])
print(xpcall(function() error("with handler") end, function(m) return "handled: " .. m end))
print(xpcall(function(a, b) return a + b end, print, 3, 4))
local function handler(m)
  return (debug.traceback(m, 2):gsub("0x%x+", "ADDR"))
end
local function deep(n) if n == 0 then error("deep error") end return deep(n - 1) + 1 end
print(xpcall(deep, handler, 3))
print(pcall(pcall))
print(select("#"), select("#", nil, nil), select(2, "a", "b", "c"), select(-1, "a", "b", "c"))
print(pcall(select, 0, 1))
local env = {print = print, x = 5}
local f = load("x = x + 1; print('in env', x); return y", "=chunk", "t", env)
print(f(), env.x, x)
print(load("syntax error here"))
print(load("return 1", "=c", "b"))
print(type(load(function() return nil end)))
local parts = {"return ", "1 + ", "2"}
local i = 0
print(load(function() i = i + 1; return parts[i] end)())
print(pcall(load, "return 1", "x", "q"))
print(string.dump and select("#", string.dump(function() end)) == 1)
