-- expect: memory limit exceeded (limit 8.0 MiB, requested 8000000000 bytes)
-- Native allocations check the budget before asking malloc.
local s = mw.series.zeros(1e9)
