-- expect: instruction limit exceeded
-- table.move over a range of 1e15 nils allocates nothing: each element
-- moved is counted.
table.move({}, 1, 1e15, 1)
