-- expect: attempt to index a nil value (global 'io')
-- No io library: io.open, io.popen, io.lines are all out of reach.
local f = io.open("/etc/passwd")
print(f:read("a"))
