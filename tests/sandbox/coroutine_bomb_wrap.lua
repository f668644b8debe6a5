-- expect: coroutine limit exceeded (1000 coroutines)
-- wrap counts too.
for i = 1, 1e7 do coroutine.wrap(print) end
