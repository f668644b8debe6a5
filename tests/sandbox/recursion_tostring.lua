-- expect: C stack overflow
-- Through __tostring.
local mt = {}
mt.__tostring = function(x) return tostring(x) end
print(tostring(setmetatable({}, mt)))
