-- expect: instruction limit exceeded
-- table.sort of 2^31 elements that C metamethods make up (and throw
-- away): no Lua runs and nothing is allocated, but every comparison is
-- counted.
local t = setmetatable({}, {__index = function() return 1 end, __newindex = rawequal,
                            __len = function() return 2^31 - 2 end})
table.sort(t)
