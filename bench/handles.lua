-- handles.lua: the cost of creating and releasing a list handle from a
-- Lua loop, against creating an empty Lua table in the same loop.
--
--   moonwatch bench/handles.lua [N]
local N = tonumber(arg and arg[1]) or 2000000

local function time(label, fn)
  collectgarbage()
  local best = math.huge
  for _ = 1, 3 do
    local t0 = os.clock()
    fn()
    local dt = os.clock() - t0
    if dt < best then best = dt end
  end
  print(string.format("  %-38s %7.1f ns/object", label, best * 1e9 / N))
  return best
end

print(string.format("handles: %d objects per loop, best of 3", N))
local base = time("Lua table {} (baseline)", function()
  for _ = 1, N do local t = {} end
end)
local rel = time("mw.list() + :release()", function()
  for _ = 1, N do local l = mw.list(); l:release() end
end)
local close = time("local l <close> = mw.list()", function()
  for _ = 1, N do local l <close> = mw.list() end
end)
local gc = time("mw.list(), left to Lua's __gc", function()
  for _ = 1, N do local l = mw.list() end
end)
print(string.format("  ratios to the Lua table: release %.2fx, close %.2fx, __gc %.2fx",
                    rel / base, close / base, gc / base))
