-- Coroutines: wrap, yield across pcall, status, isyieldable, running,
-- close with pending to-be-closed variables, errors.
local function gen(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i, i * i) end
    return "done"
  end)
end
local g = gen(3)
print(g(), g(), g(), g())
print(pcall(g))

local co = coroutine.create(function(a, b)
  print("start", a, b, coroutine.isyieldable(), coroutine.status(coroutine.running()))
  local ok, v = pcall(function()
    local x = coroutine.yield(a + b)
    error({code = x})
  end)
  print("pcall inside", ok, type(v), v.code)
  local c = coroutine.yield("second")
  return c * 2
end)
print(coroutine.status(co), coroutine.isyieldable())
print(coroutine.resume(co, 1, 2))
print(coroutine.status(co))
print(coroutine.resume(co, 99))
print(coroutine.resume(co, 21))
print(coroutine.status(co), coroutine.resume(co))
local main, ismain = coroutine.running()
print(type(main), ismain)

local closing = coroutine.create(function()
  local t <close> = setmetatable({}, {__close = function(_, e) print("closed with", e) end})
  coroutine.yield("holding")
end)
print(coroutine.resume(closing))
print(coroutine.close(closing), coroutine.status(closing))

local failing = coroutine.create(function()
  local t <close> = setmetatable({}, {__close = function() print("cleanup ran") end})
  coroutine.yield()
  error("boom", 0)
end)
coroutine.resume(failing)
print(coroutine.resume(failing))
print(coroutine.close(failing))
print(coroutine.close(coroutine.create(print)))
print(pcall(coroutine.yield, 1))
print(select("#", coroutine.resume(coroutine.create(function() return end))))
local wrapped = coroutine.wrap(function() error("in wrap") end)
print(pcall(wrapped))
local wrapped2 = coroutine.wrap(function() error({}) end)
local ok2, e2 = pcall(wrapped2)
print(ok2, type(e2))
-- a generator over a recursive structure
local function walk(t)
  return coroutine.wrap(function()
    local function rec(node, depth)
      for _, child in ipairs(node) do
        if type(child) == "table" then rec(child, depth + 1) else coroutine.yield(child, depth) end
      end
    end
    rec(t, 0)
  end)
end
for v, d in walk({1, {2, {3, 4}}, 5}) do io.write(v, "@", d, " ") end
print()
print(coroutine.resume(coroutine.running()))
