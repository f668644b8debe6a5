-- expect: sandbox: reading standard input is not allowed
-- Standard input belongs to the host.
for line in mw.lines("-") do print(line) end
