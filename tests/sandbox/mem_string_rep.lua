-- expect: not enough memory
-- One huge allocation is refused by the budget.
local s = string.rep("x", 1e9)
