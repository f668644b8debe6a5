-- expect: sandbox: reading 'data/etc_link' is not allowed
-- Nor a linked directory.
print(#mw.fs.list("data/etc_link"))
