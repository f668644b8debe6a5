-- expect: attempt to index a nil value (global 'debug')
-- No debug library: no registry, no upvalues, no hooks.
debug.sethook()
