-- expect: not enough memory
-- Lua-to-Lua recursion. Lua stops it at LUAI_MAXSTACK (1,000,000 slots)
-- with "stack overflow", but 200,000 frames of this function take some
-- 80 MiB with their call records: under this suite's 8 MiB budget the
-- memory error comes first (test_sandbox.c checks "stack overflow" under
-- a budget of 128 MiB). Either way a clean error.
local function f() return 1 + f() end
f()
