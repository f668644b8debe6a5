-- expect: escaped
-- load without an environment gives the caller's own, never the real globals: the loaded chunk sees the script's locals-free globals and no io.
secret = 42
local f = load("return secret, io, dofile")
local a, b, c = f()
assert(a == 42 and b == nil and c == nil)
error("escaped? no: " .. tostring(b))
