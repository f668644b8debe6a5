-- expect: not enough memory
-- Or a huge result with a separator.
local s = string.rep("x", 1e7, ",")
