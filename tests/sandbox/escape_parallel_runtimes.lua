-- expect: sandbox: mw.parallel.map is not allowed (its runtimes would run outside the sandbox and its limits)
-- Runtimes on other threads would have every library and no limits.
mw.parallel.map(2, "return function() return io.open('/etc/passwd'):read('a') end", {1})
