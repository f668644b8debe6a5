-- expect: instruction limit exceeded
-- Coroutines inherit the hook.
coroutine.wrap(function() while true do end end)()
