-- expect: instruction limit exceeded
-- count and skip pull items in C: each item pulled is counted.
print(mw.range(1, 1e15):count())
