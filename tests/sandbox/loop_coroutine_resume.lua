-- expect: instruction limit exceeded
-- coroutine.resume passes the limit on instead of returning it.
local co = coroutine.create(function() while true do end end)
while true do coroutine.resume(co) end
