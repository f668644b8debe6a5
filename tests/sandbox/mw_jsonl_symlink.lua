-- expect: sandbox: reading 'data/passwd_link' is not allowed
-- A symbolic link inside a readable directory that points outside is refused.
for r in mw.jsonl("data/passwd_link") do print(r) end
