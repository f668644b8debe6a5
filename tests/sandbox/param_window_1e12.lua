-- expect: window must be an integer in
-- A window of 1e12 is refused before anything is allocated.
local d = mw.detect.zscore{window = 1e12}
