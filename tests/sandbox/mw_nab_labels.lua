-- expect: sandbox: reading '/etc/passwd' is not allowed
-- The NAB label reader is a file reader too.
mw.nab.labels("/etc/passwd")
