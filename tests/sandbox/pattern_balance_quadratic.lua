-- expect: instruction limit exceeded
-- %b rescans to the end from every start: quadratic, counted.
local s = ("("):rep(2e5)
for m in s:gmatch("%b()") do end
