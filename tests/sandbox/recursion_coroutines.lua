-- expect: C stack overflow
-- Coroutines resumed inside coroutines.
local function r() return coroutine.wrap(r)() end
r()
