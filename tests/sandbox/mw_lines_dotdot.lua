-- expect: is not allowed
-- '..' does not climb out of a readable directory (the path is resolved first).
for line in mw.lines("data/../../../../../../../etc/passwd") do print(line) end
