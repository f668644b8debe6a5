-- expect: sandbox: cannot set 'print' of '_G'
-- The globals behind a script's environment are a read-only proxy.
load("print = nil", "x", "t", getmetatable(_G).__index)()
