-- expect: instruction limit exceeded
-- A callback of a C function is Lua code under the hook.
string.gsub("x", ".", function() while true do end end)
