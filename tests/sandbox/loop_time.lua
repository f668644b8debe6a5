-- expect: time limit exceeded (0.3 s)
-- runtime: time
-- Where only a time limit is set, the clock ends the loop.
while true do end
