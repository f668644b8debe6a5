-- expect: sandbox: collectgarbage('generational') is not allowed
-- Mode switches too.
collectgarbage("generational")
