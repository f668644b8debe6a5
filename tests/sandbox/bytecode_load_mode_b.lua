-- expect: sandbox: load: binary chunks are not allowed (mode 'b')
-- Asking for binary mode is refused outright.
load("\27LuaT\0", "x", "b")
