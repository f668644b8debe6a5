-- expect: C stack overflow
-- Recursion through a C function.
local function f(s) return (s:gsub(".", f)) end
f("xx")
