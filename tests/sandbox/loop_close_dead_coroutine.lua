-- expect: instruction limit exceeded
-- A limit raised inside a coroutine leaves that thread marked as inside
-- the hook, where no hook runs: closing it later would run its pending
-- __close handler unstoppably. coroutine.close leaves it alone.
local co = coroutine.create(function()
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  while true do end
end)
local guard <close> = setmetatable({}, {__close = function() coroutine.close(co) end})
coroutine.resume(co)
