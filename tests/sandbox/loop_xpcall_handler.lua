-- expect: instruction limit exceeded
-- Nor can a message handler spin.
xpcall(function() error("x") end, function() while true do end end)
