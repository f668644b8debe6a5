-- expect: attempt to index a nil value (global 'package')
-- No package library: no loadlib, no C searchers, no cpath.
local f = package.loadlib("libc.so.6", "system")
f("id")
