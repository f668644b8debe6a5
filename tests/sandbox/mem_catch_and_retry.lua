-- expect: time limit exceeded (0.3 s)
-- runtime: time
-- A memory error can be caught (the budget still holds), but retrying
-- forever meets the time limit. (The same loop over string.rep in Lua's
-- incremental collector also piles up finalizable buffers that emergency
-- collections do not finalize, and may end by the budget first:
-- docs/security.md.)
while true do pcall(mw.series.zeros, 1e9) end
