-- expect: instruction limit exceeded
-- The same through the string metatable.
local s = ("a"):rep(3e4)
print(s:match(("a-"):rep(15) .. "b"))
