-- expect: coroutine limit exceeded
-- The coroutine limit cannot be caught either.
while true do pcall(coroutine.create, print) end
