-- expect: cannot change a protected metatable
-- The proxies' metatables are protected.
setmetatable(string, {__index = function() return print end})
