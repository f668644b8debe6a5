-- expect: instruction limit exceeded
-- pcall cannot catch a limit.
while true do pcall(function() while true do end end) end
