-- expect: instruction limit exceeded
-- The same through skip.
for x in mw.range(1, 1e15):skip(1e15 - 1) do end
