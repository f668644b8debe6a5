-- expect: instruction limit exceeded
-- The same through a generator: the for loop closes it as the limit's
-- error unwinds, and its coroutine's __close must not run.
for x in mw.gen(function(yield)
  local c <close> = setmetatable({}, {__close = function() while true do end end})
  while true do end
end) do end
