-- expect: instruction limit exceeded
-- coroutine.wrap closes a coroutine that failed, running its pending
-- __close handler; after a limit that handler would run with no hook.
coroutine.wrap(function()
  local x <close> = setmetatable({}, {__close = function() while true do end end})
  while true do end
end)()
