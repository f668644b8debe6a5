-- expect: attempt to call a nil value (global 'loadfile')
-- loadfile is gone.
print(loadfile("/etc/passwd"))
