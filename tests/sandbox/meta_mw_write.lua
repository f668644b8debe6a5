-- expect: sandbox: cannot set 'zscore' of 'mw.detect'
-- mw and its tables are read-only too.
mw.detect.zscore = function() return "pwned" end
