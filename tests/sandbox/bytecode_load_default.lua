-- expect: attempt to load a binary chunk (mode is 't')
-- Bytecode handed to load is text-only mode's refusal.
assert(load("\27LuaT\0\25\147\r\n\26\n\4\8\8xV"))
