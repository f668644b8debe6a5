-- expect: sandbox: cannot set 'upper' of 'string' (the libraries are read-only)
-- Library tables are read-only proxies.
string.upper = function() return "pwned" end
