-- expect: instruction limit exceeded
-- A coroutine made by wrap, its thread captured with coroutine.running,
-- ended by the limit in one call and closed in the unwinding.
local thread
local f = coroutine.wrap(function()
  thread = coroutine.running()
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  while true do end
end)
local guard <close> = setmetatable({}, {__close = function() coroutine.close(thread) end})
f()
