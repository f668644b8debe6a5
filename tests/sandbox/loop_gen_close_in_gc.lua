-- expect: collected
-- A generator dropped with a pending __close that spins: its finalizer must not run Lua (hooks are off there), so the collection returns.
local g = mw.gen(function(yield)
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  yield(1)
  yield(2)
end)
g()
g = nil
collectgarbage()
collectgarbage()
error("collected")
