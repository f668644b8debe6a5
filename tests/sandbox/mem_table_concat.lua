-- expect: not enough memory
-- table.concat of many large strings.
local piece = ("x"):rep(1 << 20)
local t = {}
for i = 1, 64 do t[i] = piece end
local s = table.concat(t)
