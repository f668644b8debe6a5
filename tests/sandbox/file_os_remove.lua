-- expect: attempt to call a nil value (field 'remove')
-- Nor remove, rename or read the environment.
os.remove("/tmp/x")
