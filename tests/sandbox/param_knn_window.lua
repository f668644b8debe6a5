-- expect: window must be an integer in
-- So is a neighbours window past its range.
local d = mw.detect.knn{window = 1e12}
