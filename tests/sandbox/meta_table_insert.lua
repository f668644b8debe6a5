-- expect: sandbox: cannot set '1' of 'math'
-- table functions honour __newindex, which refuses.
table.insert(math, "pwned")
