-- expect: sandbox: reading '/etc' is not allowed
-- Listing is reading.
print(#mw.fs.list("/etc"))
