-- expect: bad argument #1 to 'setmetatable' (table expected, got string)
-- Strings' metatable cannot be replaced from Lua at all.
setmetatable("", {})
