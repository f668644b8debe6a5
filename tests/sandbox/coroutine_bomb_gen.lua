-- expect: coroutine limit exceeded (1000 coroutines)
-- And mw.gen, which makes one.
for i = 1, 1e7 do mw.gen(print) end
