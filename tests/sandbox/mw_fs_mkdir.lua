-- expect: sandbox: writing '/tmp/moonwatch-sandbox-dir' is not allowed
-- No writing at all.
mw.fs.mkdir("/tmp/moonwatch-sandbox-dir")
