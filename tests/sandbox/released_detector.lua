-- expect: released
-- A released detector.
local d = mw.detect.zscore{window = 10}
d:release()
d:update(1)
