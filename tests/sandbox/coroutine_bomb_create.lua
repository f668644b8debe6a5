-- expect: coroutine limit exceeded (1000 coroutines)
-- The per-entry coroutine limit.
local keep = {}
for i = 1, 1e7 do keep[i] = coroutine.create(print) end
