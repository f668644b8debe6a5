-- expect: C stack overflow
-- Through table.sort's comparator.
local t = {3, 2, 1}
local function cmp(a, b) table.sort(t, cmp) return a < b end
table.sort(t, cmp)
