-- expect: memory limit exceeded (limit 8.0 MiB
-- A detector's window within its range but past the budget.
local d = mw.detect.zscore{window = 1e9}
