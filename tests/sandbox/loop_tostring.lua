-- expect: instruction limit exceeded
-- And __tostring called by print.
print(setmetatable({}, {__tostring = function() while true do end end}))
