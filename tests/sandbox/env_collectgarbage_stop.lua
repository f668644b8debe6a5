-- expect: sandbox: collectgarbage('stop') is not allowed
-- Only collect, count, step and isrunning: the collector's mode is the runtime's.
collectgarbage("stop")
