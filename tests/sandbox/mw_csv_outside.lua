-- expect: sandbox: reading '/etc/passwd' is not allowed (readable directories: 
-- moonwatch's sources read only under the granted directories.
for row in mw.csv("/etc/passwd") do print(row) end
