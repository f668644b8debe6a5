-- expect: instruction limit exceeded
-- table.remove shifts every element up to #t, which __len makes up.
table.remove(setmetatable({}, {__len = function() return 1e15 end}), 1)
