-- expect: memory limit exceeded
-- A series of 2^40 values.
local s = mw.series.zeros(2^40)
