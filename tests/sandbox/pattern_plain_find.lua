-- expect: instruction limit exceeded
-- Even a plain find is O(n*m) on a hostile needle.
local hay = ("a"):rep(2e6)
local needle = ("a"):rep(1e6) .. "b"
print(hay:find(needle, 1, true))
