-- expect: sandbox: mw.gc.disable is not allowed
-- Nor the native collector turned off for everyone.
mw.gc.disable()
