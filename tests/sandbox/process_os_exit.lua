-- expect: attempt to call a nil value (field 'exit')
-- A script cannot end the host process.
os.exit(3)
