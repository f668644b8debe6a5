-- expect: memory limit exceeded (limit 8.0 MiB
-- Many series, kept.
local keep = {}
for i = 1, 1e6 do keep[i] = mw.series.zeros(1e5) end
