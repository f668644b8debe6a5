-- expect: attempt to call a nil value (global 'dofile')
-- dofile is gone.
dofile("/etc/passwd")
