-- expect: instruction limit exceeded
-- A comparator of table.sort too.
table.sort({3, 2, 1}, function() while true do end end)
