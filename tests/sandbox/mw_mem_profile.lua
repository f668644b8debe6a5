-- expect: sandbox: mw.mem.profile is not allowed
-- The profiler writes files and keeps its records outside the budget.
mw.mem.profile(function() end, {file = "/tmp/p.txt"})
