-- expect: sandbox: mw.mem.budget can only read the setting
-- The budget cannot be lifted from inside.
mw.mem.budget(2^40)
